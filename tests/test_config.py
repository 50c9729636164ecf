"""Config: every shipped profile validates; overrides are typed; mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.config import (
    ALL_STRATEGIES,
    DEFAULT_STRATEGIES,
    PROFILES_DIR,
    RunConfig,
    describe_fields,
    list_profiles,
    load_yaml_mapping,
    parse_override,
    resolve_config,
)
from advisor.errors import ConfigError
from strategies.registry import available_strategies


@pytest.mark.parametrize("profile", list_profiles())
def test_every_shipped_profile_validates(profile: str) -> None:
    config = resolve_config(profile=profile)
    assert config.profile == profile
    # the task type's defaults, but in the study, which names what it compares
    assert config.strategies == ([] if profile != "thorough" else ["rag", "sft", "full_ft"])


def test_default_strategies_are_registered_and_cover_every_task_type() -> None:
    for task_type, names in DEFAULT_STRATEGIES.items():
        assert set(names) <= set(ALL_STRATEGIES), task_type
    assert set(DEFAULT_STRATEGIES) == {"generation", "classification"}


def test_profiles_are_the_documented_four() -> None:
    assert set(list_profiles()) == {"quick", "standard", "full", "thorough"}


def test_the_thorough_profile_is_the_fine_tuning_study() -> None:
    from advisor.config import sweep_axes

    config = resolve_config(profile="thorough")
    assert config.task == "banking-large" and config.seeds == [0, 1, 2]
    assert config.train_sizes == ["100", "300", "1000", "all"]
    assert sweep_axes(config) == [("sft.epochs", ["1", "3"]), ("full_ft.epochs", ["1", "3"])]
    assert config.sft.max_steps == config.full_ft.max_steps == 0  # the epochs decide


@pytest.mark.parametrize("profile", list_profiles())
def test_full_ft_learns_far_more_gently_than_lora_in_every_profile(profile: str) -> None:
    """Full fine-tuning moves the pre-trained weights themselves: at LoRA's rate
    a small model forgets its instruction tuning (see advisor.config.FullFtConfig)."""
    config = resolve_config(profile=profile)
    assert config.full_ft.lr <= config.sft.lr / 10
    assert "full_ft" not in DEFAULT_STRATEGIES["generation"]  # run when named


def test_registry_and_default_strategies_agree() -> None:
    assert set(available_strategies()) == set(ALL_STRATEGIES)


def test_overrides_are_typed_and_layered(tmp_path: Path) -> None:
    file = tmp_path / "run.yaml"
    file.write_text("rag:\n  top_k: 5\nsft:\n  lora:\n    r: 4\n")
    config = resolve_config(
        profile="quick",
        config_file=file,
        settings={"strategies": ["rag"], "seeds": ["1", "2"]},
        overrides=["rag.top_k=7", "sft.lr=1e-3", "generation.max_new_tokens=20"],
    )
    assert config.rag.top_k == 7  # override beats file
    assert config.sft.lora.r == 4  # file beats profile and defaults
    assert config.sft.lr == pytest.approx(1e-3)
    assert config.seeds == [1, 2]
    quick = load_yaml_mapping(PROFILES_DIR / "quick.yaml")
    assert config.limit == quick["limit"] != RunConfig().limit  # from the quick profile


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ("rag.top_k=many", "rag.top_k", "whole number"),
        ("rag.topk=3", "rag.topk", "unknown setting"),
        ("sft.epochs=-1", "sft", "positive"),
        ("rag.chunking=words", "rag.chunking", "one of"),
        ("strategies=prompt,rga", "strategies", "unknown strategy"),
        ("full_ft.lr=0", "full_ft", "positive"),
        ("full_ft.max_steps=-2", "full_ft.max_steps", "no cap"),
        ("full_ft.context_share=1.5", "full_ft.context_share", "between 0 and 1"),
        ("full_ft.gradient_checkpointing=maybe", "full_ft.gradient_checkpointing", "true or false"),
    ],
)
def test_bad_override_names_the_field(override: str, field: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        resolve_config(overrides=[override])
    assert caught.value.field == field


def test_unknown_strategy_suggests_the_closest() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_config(settings={"strategies": ["sft+ragg"]})
    assert caught.value.hint == "did you mean 'sft+rag'?"


def test_override_without_equals_is_refused() -> None:
    with pytest.raises(ConfigError, match="not key=value"):
        parse_override("rag.top_k")


def test_bad_config_file_names_the_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("rag:\n  top_k: [1\n")
    with pytest.raises(ConfigError) as caught:
        resolve_config(config_file=file)
    assert caught.value.file == str(file) and caught.value.line is not None
    file.write_text("rag:\n  top_k: three\n")
    with pytest.raises(ConfigError) as caught:
        resolve_config(config_file=file)
    assert caught.value.file == str(file) and caught.value.field == "rag.top_k"


def test_every_setting_has_help_text() -> None:
    rows = describe_fields(RunConfig)
    assert len(rows) > 20
    missing = [key for key, _, text in rows if not text and key not in ("strategies",)]
    assert missing == []
