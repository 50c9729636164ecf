"""The built-in `health` task, generated from `health_facts.yaml` by `facts_table`.

python -m benchmarks.generators.health [--check] [--out DIR]
"""

from benchmarks.generators.facts_table import run_as_script

if __name__ == "__main__":
    run_as_script("health")
