//! Which shard takes which target.
//!
//! Targets are dealt largest first, each to the shard with the least work so far (the
//! "longest processing time" rule: never worse than 4/3 of the best possible split).
//! Ties go by name and then by shard number, so the same weights always give the same
//! plan. A run's plan is made once, by its first shard, and stored; the others read
//! it, so shards never disagree about who does what.

use crate::EstateError;

/// This process's part of a run: shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based.
    pub index: u32,
    /// How many shards the run has.
    pub count: u32,
}

impl Shard {
    /// The whole run in one process.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// `I/N` as written on the command line (0-based `I`).
    pub fn parse(s: &str) -> Result<Shard, EstateError> {
        let bad = || {
            EstateError::Shard(format!(
                "`{s}` is not I/N (e.g. 0/4: the first of four shards)"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        Shard::new(index, count)
    }

    /// Shard `index` of `count`, checked.
    pub fn new(index: u32, count: u32) -> Result<Shard, EstateError> {
        if count == 0 || index >= count {
            return Err(EstateError::Shard(format!(
                "shard {index} of {count}: the index runs from 0 to one less than the count"
            )));
        }
        Ok(Shard { index, count })
    }

    /// The shard a Kubernetes Indexed Job gives this pod: `JOB_COMPLETION_INDEX`, with
    /// the count from `LEAKHOUND_SHARDS` (set it to the Job's `completions`; the Job
    /// does not tell its pods). `None` when neither is set.
    pub fn from_env(
        index: Option<&str>,
        count: Option<&str>,
    ) -> Result<Option<Shard>, EstateError> {
        match (index, count) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(EstateError::Shard(
                "JOB_COMPLETION_INDEX is set but LEAKHOUND_SHARDS is not: set it to the Job's completions".into(),
            )),
            (None, Some(n)) => Shard::parse(&format!("0/{n}")).map(Some),
            (Some(i), Some(n)) => Shard::parse(&format!("{i}/{n}")).map(Some),
        }
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard of each target (same order as `targets`, given as (name, weight)).
pub fn assign(targets: &[(&str, u64)], shards: u32) -> Vec<u32> {
    let shards = shards.max(1);
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by(|&a, &b| {
        targets[b]
            .1
            .cmp(&targets[a].1)
            .then_with(|| targets[a].0.cmp(targets[b].0))
    });
    let mut load = vec![0u64; shards as usize];
    let mut out = vec![0u32; targets.len()];
    for i in order {
        let (least, _) = load
            .iter()
            .enumerate()
            .min_by_key(|(s, l)| (**l, *s))
            .unwrap_or((0, &0));
        load[least] = load[least].saturating_add(targets[i].1.max(1));
        out[i] = least as u32;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shards_are_read_from_flags_and_the_job() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("1/0").is_err());
        assert!(Shard::parse("x").is_err());
        assert_eq!(Shard::from_env(None, None).unwrap(), None);
        assert_eq!(
            Shard::from_env(Some("3"), Some("4")).unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        assert!(Shard::from_env(Some("3"), None)
            .unwrap_err()
            .to_string()
            .contains("LEAKHOUND_SHARDS"));
        assert!(Shard::from_env(Some("4"), Some("4")).is_err());
    }

    #[test]
    fn the_largest_targets_are_spread_first() {
        let t = [("a", 100), ("b", 60), ("c", 50), ("d", 10)];
        // a to the first shard, b and c to the second (110), d back to the first (110).
        assert_eq!(assign(&t, 2), vec![0, 1, 1, 0]);
        assert_eq!(assign(&t, 1), vec![0, 0, 0, 0]);
    }

    proptest! {
        #[test]
        fn every_target_gets_one_shard_and_the_split_is_balanced(
            weights in proptest::collection::vec(0u64..1_000, 0..60),
            shards in 1u32..9,
        ) {
            let names: Vec<String> = (0..weights.len()).map(|i| format!("t{i}")).collect();
            let targets: Vec<(&str, u64)> =
                names.iter().map(String::as_str).zip(weights.iter().copied()).collect();
            let plan = assign(&targets, shards);
            prop_assert_eq!(plan.len(), targets.len());
            prop_assert!(plan.iter().all(|s| *s < shards));
            // Same input, same plan.
            prop_assert_eq!(&plan, &assign(&targets, shards));
            // No shard holds more than the average plus the largest target.
            let mut load = vec![0u64; shards as usize];
            for (i, s) in plan.iter().enumerate() {
                load[*s as usize] += targets[i].1.max(1);
            }
            let total: u64 = load.iter().sum();
            let largest = targets.iter().map(|t| t.1.max(1)).max().unwrap_or(0);
            let most = load.iter().copied().max().unwrap_or(0);
            prop_assert!(most <= total / u64::from(shards) + largest);
        }
    }
}
