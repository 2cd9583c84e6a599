"""One module per command of `armature-pipeline`, each with `main(args) -> exit code`.

Argument parsing lives in `armature_pipeline.cli`; a command module is imported only when
its command runs, so `--help` and a quick `status` do not pay for what `run` needs.
"""
