"""The built-in `legal` task, generated from `legal_facts.yaml` by `facts_table`.

python -m benchmarks.generators.legal [--check] [--out DIR]
"""

from benchmarks.generators.facts_table import run_as_script

if __name__ == "__main__":
    run_as_script("legal")
