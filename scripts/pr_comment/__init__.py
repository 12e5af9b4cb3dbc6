"""The parts of the PR comment that scripts/render_pr_comment.py assembles, one concern a module.

- run_artifacts: which artifact files are read at all (expected names, regular files, size caps) and
  the numbers parsed from them (PR number, exit codes);
- safe_markdown: untrusted text made inert and put in a code fence it cannot close, within a budget;
- snapshot_diff: the "Estate snapshot changes" section, built on the two above.

run_artifacts and safe_markdown import nothing of this package, so there is no cycle. The package is
imported as `pr_comment`, from the script's own directory (first on sys.path when Python runs a
script); pr-comment.yml checks out exactly these files beside the script, and nothing else.
"""
