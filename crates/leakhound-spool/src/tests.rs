use super::*;
use leakhound_findings::{
    fingerprint, ColumnValues, CommitRef, Confidence, GitOrigin, Location, ProcessRef, Reach,
    Status, TableCell, Triage,
};
use proptest::prelude::*;
use std::sync::Arc;

fn finding(path: &str, line: u64, column: u64, rule: &str, value: &str) -> Finding {
    Finding {
        rule: Arc::from(rule),
        name: Arc::from(format!("{rule} name").as_str()),
        category: if rule.starts_with('s') {
            Category::Secret
        } else {
            Category::Personal
        },
        severity: Severity::High,
        confidence: Confidence::Medium,
        location: Location {
            path: path.to_string(),
            line,
            column,
            offset: line * 100 + column,
        },
        value: value.to_string(),
        fingerprint: fingerprint(rule, value),
        validator: None,
        line_text: Some(Arc::from(format!("line {line}: {value}").as_str())),
        count: None,
        blob: Arc::from("00ff"),
        binary: false,
        git: None,
        triage: None,
        cell: None,
        process: None,
        column_values: None,
        decoded: None,
    }
}

/// Everything a finding can carry, so a round trip that drops a field shows.
fn full() -> Finding {
    let mut f = finding("a.zip!b.csv", 3, 7, "resident-id", "110105199003072316");
    f.validator = Some("iso7064-mod11-2".into());
    f.count = Some(12);
    f.binary = true;
    f.git = Some(Box::new(GitOrigin {
        repository: "repo".into(),
        blob: "abc".into(),
        commit: Some(CommitRef {
            id: "c0ffee".into(),
            author: "张伟".into(),
            email: "zw@example.com".into(),
            date: "2020-01-01T00:00:00+08:00".into(),
            path: "b.csv".into(),
        }),
        removed: Some("deadbeef".into()),
        reach: Reach::UnreachableCommit,
    }));
    f.triage = Some(Box::new(Triage {
        status: Status::Revoked,
        comment: Some("rotated".into()),
        first_seen: "2026-01-01T00:00:00Z".into(),
        last_seen: "2026-02-01T00:00:00Z".into(),
        new: false,
        reappeared: true,
    }));
    f.cell = Some(Box::new(TableCell {
        name: Arc::from("a.zip!b.csv"),
        column: Arc::from("身份证号"),
        row: 2,
    }));
    f.process = Some(Box::new(ProcessRef {
        pid: 42,
        user: "root".into(),
        exe: "/tmp/xmrig (deleted)".into(),
        cmdline: "xmrig -o stratum+tcp://pool".into(),
        started: "2026-11-26T00:00:00Z".into(),
        cpu_percent: 97.5,
    }));
    f.column_values = Some(Box::new(ColumnValues {
        distinct: 2,
        last_row: 9,
        examples: vec!["110105199003072316".into(), "11010519491231002X".into()],
        keys: vec![3, u64::MAX],
    }));
    f
}

fn shown(f: &Finding) -> String {
    format!("{f:?}")
}

#[test]
fn a_spilled_finding_comes_back_with_every_field() {
    let spool = Spool::new(1);
    spool.push(vec![full()]);
    spool.push(vec![finding("z", 1, 1, "s", "v")]);
    let findings = spool.finish();
    assert!(findings.spilled());
    let back: Vec<String> = findings.iter().map(|f| shown(&f.unwrap())).collect();
    assert_eq!(
        back,
        vec![shown(&full()), shown(&finding("z", 1, 1, "s", "v"))]
    );
}

#[test]
fn under_the_budget_nothing_is_spilled_and_order_is_the_report_order() {
    let spool = Spool::new(10);
    spool.push(vec![
        finding("b", 1, 1, "s", "1"),
        finding("a", 2, 1, "s", "2"),
    ]);
    spool.push(vec![finding("a", 1, 5, "p", "3")]);
    let findings = spool.finish();
    assert!(!findings.spilled());
    let values: Vec<String> = findings.iter().map(|f| f.unwrap().value.clone()).collect();
    assert_eq!(values, ["3", "2", "1"]);
    assert_eq!(findings.as_slice().map(<[Finding]>::len), Some(3));
}

#[test]
fn neighbours_read_back_share_their_line() {
    let spool = Spool::new(1);
    let a = finding("a", 1, 1, "s", "x");
    let mut b = finding("a", 1, 5, "s", "y");
    b.line_text = a.line_text.clone();
    spool.push(vec![a, b]);
    let all = spool.finish().into_vec().unwrap();
    let (Some(x), Some(y)) = (&all[0].line_text, &all[1].line_text) else {
        panic!("line texts lost");
    };
    assert!(Arc::ptr_eq(x, y));
}

#[test]
fn a_truncated_run_is_an_error_not_a_crash() {
    let findings: Vec<Finding> = (0..5).map(|i| finding("a", i, 1, "s", "v")).collect();
    let mut run = Run::write(&findings).unwrap();
    run.set_end(30);
    let mut reader = run.reader();
    let mut outcome = Ok(Some(finding("x", 0, 0, "s", "")));
    for _ in 0..6 {
        outcome = reader.next_finding();
        if !matches!(outcome, Ok(Some(_))) {
            break;
        }
    }
    assert!(matches!(outcome, Err(SpoolError::Truncated)), "{outcome:?}");
}

#[test]
fn filter_map_on_spilled_findings_keeps_them_spilled_and_in_order() {
    let spool = Spool::new(3);
    for i in (0..10).rev() {
        spool.push(vec![finding(&format!("f{i}"), 1, 1, "s", &i.to_string())]);
    }
    let findings = spool.finish();
    assert!(findings.spilled());
    let odd = findings
        .filter_map(|mut f| {
            f.count = Some(1);
            (f.value.parse::<u32>().unwrap_or(0) % 2 == 1).then_some(f)
        })
        .unwrap();
    assert!(odd.spilled());
    assert_eq!(odd.len(), 5);
    let values: Vec<(String, Option<u64>)> = odd
        .iter()
        .map(|f| {
            let f = f.unwrap();
            (f.value.clone(), f.count)
        })
        .collect();
    let expected: Vec<(String, Option<u64>)> = ["1", "3", "5", "7", "9"]
        .iter()
        .map(|v| (v.to_string(), Some(1)))
        .collect();
    assert_eq!(values, expected);
}

#[test]
fn runs_are_merged_before_their_number_grows_with_the_findings() {
    let spool = Spool::new(1);
    let mut values = Vec::new();
    for i in (0..3 * MAX_RUNS + 5).rev() {
        values.push(format!("{i:04}"));
        spool.push(vec![finding(
            &format!("f{i:04}"),
            1,
            1,
            "s",
            &values[values.len() - 1],
        )]);
    }
    let findings = spool.finish();
    // 101 runs: three merged at level 1, five left at level 0.
    let levels: Vec<u32> = findings.runs.iter().map(|r| r.level).collect();
    assert_eq!(levels.iter().filter(|&&l| l == 1).count(), 3, "{levels:?}");
    assert_eq!(levels.iter().filter(|&&l| l == 0).count(), 5, "{levels:?}");
    values.sort();
    let read: Vec<String> = findings.iter().map(|f| f.unwrap().value.clone()).collect();
    assert_eq!(read, values);
}

proptest! {
    /// A damaged run gives findings or an error, never a crash or an endless read.
    #[test]
    fn garbage_in_a_run_is_an_error_not_a_crash(
        good in 0usize..4,
        junk in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let findings: Vec<Finding> = (0..good).map(|i| finding("a", i as u64, 1, "s", "v")).collect();
        let run = Run::write(&findings).unwrap();
        let mut bytes = Vec::new();
        let mut reader = run.reader();
        // The good frames as written, then junk.
        while let Ok(Some(_)) = reader.next_finding() {}
        drop(reader);
        use std::io::{Read, Seek};
        let mut file = run.file_for_tests();
        file.seek(std::io::SeekFrom::Start(0)).unwrap();
        file.read_to_end(&mut bytes).unwrap();
        bytes.extend_from_slice(&junk);
        let damaged = Run::of_bytes(&bytes);
        let mut reader = damaged.reader();
        let mut read = 0;
        while let Ok(Some(_)) = reader.next_finding() {
            read += 1;
            prop_assert!(read <= good + junk.len());
        }
        prop_assert!(read >= good);
    }

    /// Whatever the budget and however findings arrive, reading gives every finding
    /// once, in sort-key order, with the same counts.
    #[test]
    fn spilling_never_changes_what_is_read(
        batches in prop::collection::vec(
            prop::collection::vec((0u8..4, 1u64..6, 1u64..4, 0u8..3, "[a-z0-9]{0,6}"), 0..8),
            0..12),
        budget in 1usize..12,
    ) {
        let spool = Spool::new(budget);
        let mut all = Vec::new();
        for batch in &batches {
            let findings: Vec<Finding> = batch
                .iter()
                .map(|(p, line, col, rule, value)| {
                    let rule = ["secret-a", "personal-b", "s-c"][usize::from(*rule)];
                    finding(&format!("p{p}"), *line, *col, rule, value)
                })
                .collect();
            all.extend(findings.iter().cloned());
            spool.push(findings);
        }
        let findings = spool.finish();
        prop_assert_eq!(findings.tally(), &Tally::of(&all));
        let read: Vec<Finding> = findings.iter().map(|f| f.unwrap().into_owned()).collect();
        prop_assert_eq!(read.len(), all.len());
        prop_assert!(read.is_sorted_by(|a, b| a.sort_key() <= b.sort_key()));
        let key = |f: &Finding| shown(f);
        let mut a: Vec<String> = read.iter().map(key).collect();
        let mut b: Vec<String> = all.iter().map(key).collect();
        a.sort();
        b.sort();
        prop_assert_eq!(a, b);
        // A second pass reads the same.
        prop_assert_eq!(findings.iter().count(), read.len());
    }
}
