// The only script: "select all" for the finding list's checkboxes. Pages work without
// it; the content security policy allows this file and nothing inline.
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll("input.pick").forEach(function (box) {
      box.checked = all.checked;
    });
  });
});
