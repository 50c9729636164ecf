"""Typed run configuration: dataclasses, profiles from YAML, `key=value` overrides.

A run's configuration is resolved in layers: the dataclass defaults, then the
profile (`advisor/profiles/<name>.yaml`), then an optional user YAML file, then
command-line flags and `key=value` overrides (`sft.epochs=3 rag.top_k=5`). The
resolved config is written into every run folder.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from advisor.errors import ConfigError
from advisor.fileio import locate, read_text, yaml_error, yaml_key_lines

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
ALL_STRATEGIES = (
    "prompt",
    "fewshot",
    "rag",
    "sft",
    "cpt",
    "sft+rag",
    "full_ft",
    "full_ft+rag",
    "scratch",
    "supervised",
    "embed",
)
DEFAULT_STRATEGIES: dict[str, tuple[str, ...]] = {
    "generation": ("prompt", "fewshot", "rag", "sft", "cpt", "sft+rag", "scratch"),
    "classification": ("prompt", "fewshot", "rag", "sft", "supervised", "embed"),
}
"""What a run compares when no strategies are named, by task type: on labels the
cheap classifiers stand beside the language-model strategies. `full_ft` and
`full_ft+rag` run when named (`-s sft,full_ft`): training every weight of the
135M model takes about twice LoRA's memory while training and leaves a 513 MB
checkpoint in every run folder (against LoRA's 3.5 MB adapter), too much for
the default run; the decision engine reads them when they ran."""


@dataclass
class ModelConfig:
    generator: str = field(
        default="smollm2",
        metadata={
            "help": "catalog name (see `advisor models`), a local Hugging Face folder, or a .gguf file"
        },
    )
    embedder: str = field(
        default="minilm", metadata={"help": "catalog name or a sentence-transformers folder"}
    )
    device: str = field(default="auto", metadata={"help": "auto | cpu | cuda | cuda:N"})
    dtype: str = field(
        default="auto",
        metadata={
            "help": "auto (bf16 on GPU or a CPU with native bf16, else fp32) | float32 | bfloat16"
        },
    )
    threads: int = field(default=0, metadata={"help": "CPU threads for torch (0: all cores)"})


@dataclass
class GenerationConfig:
    max_new_tokens: int = field(
        default=0,
        metadata={
            "help": "answer length cap, in tokens (0: from the task, the longest train answer "
            "plus its end token, at most max_new_tokens_cap)"
        },
    )
    max_new_tokens_cap: int = field(
        default=256, metadata={"help": "ceiling for the length taken from the task"}
    )
    batch_size: int = field(
        default=16, metadata={"help": "questions generated together (left padded)"}
    )
    latency_sample: int = field(
        default=4,
        metadata={
            "help": "test questions answered again one at a time, after a strategy has "
            "answered, to measure per-query latency (p50/p95; each costs a whole "
            "single-stream answer); 0: off"
        },
    )


@dataclass
class FewshotConfig:
    k: int = field(default=4, metadata={"help": "labeled examples placed in the prompt"})


@dataclass
class RagConfig:
    train_with_context: bool = field(
        default=False,
        metadata={
            "help": "sft+rag trains its own adapter with retrieved passages in the training prompts "
            "(RAFT-style) instead of reusing sft's"
        },
    )
    chunking: str = field(default="sentence", metadata={"help": "sentence | paragraph | document"})
    chunk_size: int = field(default=1, metadata={"help": "sentences (or paragraphs) per chunk"})
    top_k: int = field(
        default=1,
        metadata={
            "help": "passages placed in the prompt (1 measured best for a 135M model; raise for larger ones)"
        },
    )
    source: str = field(
        default="auto",
        metadata={
            "help": "auto | corpus | examples: what rag retrieves; auto reads the corpus, or on a "
            "classification task the labeled examples most like the question (kNN few-shot)"
        },
    )
    example_k: int = field(
        default=4, metadata={"help": "labeled examples retrieved per question (source examples)"}
    )


@dataclass
class LoraConfig:
    r: int = field(default=8, metadata={"help": "LoRA rank"})
    alpha: int = field(default=16, metadata={"help": "LoRA scaling numerator (scale = alpha / r)"})
    dropout: float = field(default=0.0, metadata={"help": "dropout on the LoRA branch"})
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"],
        metadata={"help": "module names that get adapters"},
    )
    top_layers: int = field(
        default=0,
        metadata={
            "help": "adapt only the last N transformer blocks (0: all); backpropagation "
            "stops below them, so training is faster"
        },
    )


@dataclass
class TrainConfig:
    epochs: float = field(default=2.0, metadata={"help": "passes over the data"})
    max_steps: int = field(
        default=0, metadata={"help": "stop after this many optimizer steps (0: no cap)"}
    )
    batch_size: int = field(
        default=8, metadata={"help": "sequences per step (CPU); doubled on GPU"}
    )
    micro_batch_size: int = field(
        default=0,
        metadata={
            "help": "rows per forward and backward pass: each step's batch runs in pieces "
            "this big and their gradients are summed, weighted by loss tokens (the same "
            "step, a fraction of the activation memory; 0: the whole batch at once)"
        },
    )
    lr: float = field(default=2e-4, metadata={"help": "peak learning rate (AdamW)"})
    warmup_ratio: float = field(
        default=0.1, metadata={"help": "share of steps with linear warm-up"}
    )
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay"})
    max_length: int = field(
        default=0,
        metadata={
            "help": "tokens per sequence, longer ones cut (0: from the task, the longest "
            "example, at most the model's context)"
        },
    )
    context_share: float = field(
        default=0.0,
        metadata={
            "help": "sft only: share of training questions that carry their retrieved passages "
            "(RAFT-style), so one adapter serves sft and sft+rag"
        },
    )
    prefix_grad: bool = field(
        default=True,
        metadata={
            "help": "backpropagate into the prompt prefix every row of a batch shares "
            "(exact); false treats its keys and values as constants: 18% faster SFT on banking"
        },
    )
    gradient_checkpointing: bool = field(
        default=False,
        metadata={
            "help": "recompute each block's activations in the backward pass instead of "
            "keeping them (exact): cpt's loss on every token of 8 x 256-token windows keeps "
            "~4.7 GB of activations otherwise, ~1.9 GB with it, for a second forward pass "
            "per block (the shared prompt prefix is then computed per row)"
        },
    )
    lora: LoraConfig = field(default_factory=LoraConfig)


@dataclass
class FullFtConfig:
    """`full_ft`: every weight of the generator trained, on the data `sft` trains on.

    The learning rate is two orders of magnitude below LoRA's: a LoRA update is
    a low-rank delta started at zero (and scaled by alpha / r), so it tolerates
    1e-4 to 1e-3, while full fine-tuning moves the pre-trained weights
    themselves, and at LoRA's rates a small model forgets its instruction
    tuning within a few steps. 1e-5 to 5e-5 is the usual range for full
    fine-tuning of models this size.
    """

    epochs: float = field(default=2.0, metadata={"help": "passes over the data"})
    max_steps: int = field(
        default=0, metadata={"help": "stop after this many optimizer steps (0: no cap)"}
    )
    batch_size: int = field(
        default=8, metadata={"help": "sequences per step (CPU); doubled on GPU"}
    )
    micro_batch_size: int = field(
        default=0,
        metadata={
            "help": "rows per forward and backward pass: each step's batch runs in pieces "
            "this big and their gradients are summed, weighted by loss tokens (the same "
            "step, a fraction of the activation memory; 0: the whole batch at once)"
        },
    )
    lr: float = field(
        default=2e-5,
        metadata={
            "help": "peak learning rate (AdamW); far below LoRA's because every pre-trained "
            "weight moves (higher rates erase the instruction tuning)"
        },
    )
    warmup_ratio: float = field(
        default=0.1, metadata={"help": "share of steps with linear warm-up"}
    )
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay"})
    max_length: int = field(
        default=0,
        metadata={
            "help": "tokens per sequence, longer ones cut (0: from the task, the longest "
            "example, at most the model's context)"
        },
    )
    context_share: float = field(
        default=0.0,
        metadata={
            "help": "share of training questions that carry their retrieved passages "
            "(RAFT-style, as sft.context_share), so one model serves full_ft and full_ft+rag"
        },
    )
    prefix_grad: bool = field(
        default=True,
        metadata={
            "help": "backpropagate into the prompt prefix every row of a batch shares "
            "(exact); false treats its keys and values as constants (as sft.prefix_grad)"
        },
    )
    gradient_checkpointing: bool = field(
        default=False,
        metadata={
            "help": "recompute each block's activations in the backward pass instead of "
            "keeping them: less memory, a second forward pass per block (the shared prompt "
            "prefix is then computed per row)"
        },
    )


@dataclass
class ScratchConfig:
    n_layer: int = field(default=4, metadata={"help": "transformer blocks"})
    n_head: int = field(default=4, metadata={"help": "attention heads"})
    n_embd: int = field(default=128, metadata={"help": "model width"})
    block_size: int = field(
        default=256, metadata={"help": "context length in tokens (a whole conversation must fit)"}
    )
    steps: int = field(default=600, metadata={"help": "optimizer steps"})
    batch_size: int = field(default=16, metadata={"help": "sequences per step"})
    lr: float = field(default=1e-3, metadata={"help": "peak learning rate (AdamW, cosine decay)"})


SCORINGS = ("auto", "constrained", "likelihood", "generate")


@dataclass
class ClassificationConfig:
    scoring: str = field(
        default="auto",
        metadata={
            "help": "how a generator strategy picks a label: constrained (greedy decoding that "
            "may only write an allowed label), likelihood (every allowed label ranked by its "
            "log-likelihood after the prompt: exact, slower), generate (free text mapped to a "
            "label), or auto (constrained, except generate for strategies trained on the labels)"
        },
    )


@dataclass
class SupervisedConfig:
    c: float = field(default=10.0, metadata={"help": "inverse regularisation of the classifier"})
    ngram_max: int = field(default=2, metadata={"help": "word n-grams up to this length"})
    char_ngrams: bool = field(
        default=True, metadata={"help": "add character 2-5-grams (robust to typos)"}
    )


@dataclass
class EmbedConfig:
    embedder: str = field(
        default="",
        metadata={"help": "sentence-transformers folder or catalog name (empty: model.embedder)"},
    )
    c: float = field(default=10.0, metadata={"help": "inverse regularisation of the classifier"})


@dataclass
class RunConfig:
    task: str = field(default="banking", metadata={"help": "built-in task name or a task folder"})
    strategies: list[str] = field(
        default_factory=list,
        metadata={
            "help": "which strategies to run (empty: the task type's defaults): "
            + ", ".join(ALL_STRATEGIES)
        },
    )
    profile: str = field(
        default="standard", metadata={"help": "quick | standard | full | thorough"}
    )
    seeds: list[int] = field(
        default_factory=lambda: [0], metadata={"help": "one run per seed; mean ± std"}
    )
    limit: int = field(default=0, metadata={"help": "score only the first N test items (0: all)"})
    train_sizes: list[str] = field(
        default_factory=list,
        metadata={"help": "learning curve of sft and full_ft: e.g. 50,100,200,all"},
    )
    sweep: list[str] = field(
        default_factory=list,
        metadata={
            "help": "settings to sweep, each key=v1,v2 (e.g. sft.lora.r=8,16): every "
            "strategy that reads the setting runs once per value"
        },
    )
    allow_leakage: bool = field(
        default=False, metadata={"help": "accept test questions that appear in train"}
    )
    runs_dir: str = field(default="runs", metadata={"help": "where run folders go"})
    model: ModelConfig = field(default_factory=ModelConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    fewshot: FewshotConfig = field(default_factory=FewshotConfig)
    rag: RagConfig = field(default_factory=RagConfig)
    sft: TrainConfig = field(default_factory=TrainConfig)
    cpt: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=3.0, lr=3e-4, max_length=256)
    )
    full_ft: FullFtConfig = field(default_factory=FullFtConfig)
    scratch: ScratchConfig = field(default_factory=ScratchConfig)
    classification: ClassificationConfig = field(default_factory=ClassificationConfig)
    supervised: SupervisedConfig = field(default_factory=SupervisedConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------- building from data


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Check/convert one value against a (simple) type annotation."""
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, dict):
            raise ConfigError(f"expected a mapping, got {value!r}", field=where)
        return merge(annotation(), value, prefix=f"{where}.")
    if origin in (list, tuple):
        (inner,) = typing.get_args(annotation)[:1] or (Any,)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"expected a list, got {value!r}", field=where)
        return [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], where)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in (
            "true",
            "yes",
            "1",
            "on",
            "false",
            "no",
            "0",
            "off",
        ):
            return value.lower() in ("true", "yes", "1", "on")
        raise ConfigError(f"expected true or false, got {value!r}", field=where)
    if annotation is int:
        if isinstance(value, bool):
            raise ConfigError(f"expected a whole number, got {value!r}", field=where)
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"expected a whole number, got {value!r}", field=where) from None
    if annotation is float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"expected a number, got {value!r}", field=where) from None
        if not math.isfinite(number):
            raise ConfigError(f"expected a finite number, got {value!r}", field=where)
        return number
    if annotation is str:
        if isinstance(value, dict | list):
            raise ConfigError(f"expected text, got {value!r}", field=where)
        return str(value)
    return value


def merge(base: Any, data: dict[str, Any], prefix: str = "") -> Any:
    """A copy of dataclass instance `base` with the (nested, partial) mapping applied."""
    result = dataclasses.replace(base)
    hints = _field_types(type(base))
    for key, value in data.items():
        if key not in hints:
            known = ", ".join(hints)
            raise ConfigError(f"unknown setting (known: {known})", field=f"{prefix}{key}")
        current = getattr(result, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"expected a mapping, got {value!r}", field=f"{prefix}{key}")
            setattr(result, key, merge(current, value, prefix=f"{prefix}{key}."))
        else:
            setattr(result, key, _coerce(value, hints[key], f"{prefix}{key}"))
    return result


def parse_override(text: str) -> dict[str, Any]:
    """`sft.lora.r=16` → {"sft": {"lora": {"r": "16"}}} (values are typed on merge)."""
    if "=" not in text:
        raise ConfigError(
            f"override '{text}' is not key=value", hint="for example: sft.epochs=3 rag.top_k=5"
        )
    key, value = text.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"override '{text}' has no key")
    try:
        parsed: Any = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"not a valid value ({getattr(exc, 'problem', None) or exc}): {value!r}",
            field=".".join(parts),
            hint="quote it, or write a list as a,b,c",
        ) from None
    nested: dict[str, Any] = {parts[-1]: parsed}
    for part in reversed(parts[:-1]):
        nested = {part: nested}
    return nested


def list_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    return _load_yaml(path)[0]


def _load_yaml(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """A YAML mapping of settings and the line of each key in it."""
    text = read_text(path, ConfigError, what="config file")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise yaml_error(exc, path, ConfigError) from None
    if not isinstance(data, dict):
        raise ConfigError(
            "expected a mapping of settings", file=path, hint="for example:  sft:\n    epochs: 3"
        )
    return data, yaml_key_lines(text)


def resolve_config(
    *,
    profile: str = "standard",
    config_file: Path | None = None,
    settings: dict[str, Any] | None = None,
    overrides: list[str] | None = None,
) -> RunConfig:
    """Defaults → profile → config file → settings (from flags) → key=value overrides."""
    profile_path = PROFILES_DIR / f"{profile}.yaml"
    if not profile_path.is_file():
        raise ConfigError(
            f"unknown profile '{profile}' (one of {', '.join(list_profiles())})", field="profile"
        )
    config = RunConfig()
    data, lines = _load_yaml(profile_path)
    layers: list[tuple[dict[str, Any], Path | None, dict[str, int]]] = [(data, profile_path, lines)]
    if config_file is not None:
        data, lines = _load_yaml(config_file)
        layers.append((data, config_file, lines))
    if settings:
        layers.append(({k: v for k, v in settings.items() if v is not None}, None, {}))
    for override in overrides or []:
        layers.append((parse_override(override), None, {}))
    for data, source, lines in layers:
        try:
            config = merge(config, data)
        except ConfigError as exc:
            if source is not None:
                raise locate(exc, source, lines) from None
            raise
    config.profile = profile
    validate(config)
    return config


def validate(config: RunConfig) -> None:
    """Checks that the types alone cannot express."""
    from strategies.registry import available_strategies, check_strategy_name

    for name in config.strategies:
        check_strategy_name(name)
    if len(set(config.strategies)) != len(config.strategies):
        raise ConfigError(
            f"a strategy is named twice (available: {', '.join(available_strategies())})",
            field="strategies",
        )
    if config.limit < 0:
        raise ConfigError("must be 0 (all) or a positive number", field="limit")
    if not config.seeds:
        raise ConfigError("at least one seed", field="seeds")
    for size in config.train_sizes:
        if size != "all" and not (size.isdigit() and int(size) > 0):
            raise ConfigError(f"'{size}' is not a positive number or 'all'", field="train_sizes")
    sweep_axes(config)
    if config.rag.chunking not in ("sentence", "paragraph", "document"):
        raise ConfigError("one of sentence, paragraph, document", field="rag.chunking")
    if config.rag.top_k < 1 or config.rag.chunk_size < 1:
        raise ConfigError("must be at least 1", field="rag.top_k")
    if config.generation.max_new_tokens < 0 or config.generation.max_new_tokens_cap < 1:
        raise ConfigError("must be 0 (from the task) or more", field="generation.max_new_tokens")
    if config.generation.batch_size < 1:
        raise ConfigError("must be at least 1", field="generation.batch_size")
    if config.generation.latency_sample < 0:
        raise ConfigError("must be 0 (off) or more", field="generation.latency_sample")
    if config.rag.source not in ("auto", "corpus", "examples"):
        raise ConfigError("one of auto, corpus, examples", field="rag.source")
    if config.rag.example_k < 1:
        raise ConfigError("must be at least 1", field="rag.example_k")
    if config.classification.scoring not in SCORINGS:
        raise ConfigError(f"one of {', '.join(SCORINGS)}", field="classification.scoring")
    if config.supervised.c <= 0 or config.embed.c <= 0 or config.supervised.ngram_max < 1:
        raise ConfigError("c and ngram_max must be positive", field="supervised")
    if config.model.dtype not in ("auto", "float32", "bfloat16"):
        raise ConfigError("one of auto, float32, bfloat16", field="model.dtype")
    for section in ("sft", "cpt"):
        train: TrainConfig = getattr(config, section)
        if train.max_length < 0:
            raise ConfigError("must be 0 (from the task) or more", field=f"{section}.max_length")
        if train.epochs <= 0 or train.batch_size < 1 or train.lr <= 0 or train.lora.r < 1:
            raise ConfigError("epochs, batch_size, lr and lora.r must be positive", field=section)
        if not 0 <= train.warmup_ratio < 1:
            raise ConfigError("must be in [0, 1)", field=f"{section}.warmup_ratio")
        if train.lora.top_layers < 0:
            raise ConfigError("must be 0 (every block) or more", field=f"{section}.lora.top_layers")
        if not 0 <= train.context_share <= 1:
            raise ConfigError("must be between 0 and 1", field=f"{section}.context_share")
    for section in ("sft", "cpt", "full_ft"):
        if getattr(config, section).micro_batch_size < 0:
            raise ConfigError(
                "must be 0 (the whole batch at once) or more", field=f"{section}.micro_batch_size"
            )
    full = config.full_ft
    if full.max_length < 0:
        raise ConfigError("must be 0 (from the task) or more", field="full_ft.max_length")
    if full.max_steps < 0:
        raise ConfigError("must be 0 (no cap) or more", field="full_ft.max_steps")
    if full.epochs <= 0 or full.batch_size < 1 or full.lr <= 0:
        raise ConfigError("epochs, batch_size and lr must be positive", field="full_ft")
    if not 0 <= full.warmup_ratio < 1:
        raise ConfigError("must be in [0, 1)", field="full_ft.warmup_ratio")
    if not 0 <= full.context_share <= 1:
        raise ConfigError("must be between 0 and 1", field="full_ft.context_share")
    if full.weight_decay < 0:
        raise ConfigError("must be 0 or more", field="full_ft.weight_decay")
    if config.scratch.n_embd % config.scratch.n_head:
        raise ConfigError("n_embd must be a multiple of n_head", field="scratch.n_embd")


# Settings a sweep cannot vary: they say what the run is, not how a strategy runs.
UNSWEPT = ("task", "strategies", "profile", "seeds", "limit", "train_sizes", "sweep", "runs_dir")


def sweep_axes(config: RunConfig) -> list[tuple[str, list[str]]]:
    """`config.sweep` as (key, values), each value checked by merging it into the config.

    `["sft.lora.r=8,16"]` → `[("sft.lora.r", ["8", "16"])]`. A value is kept as
    written (it names the variant: `sft(sft.lora.r=8)`) and typed where it is applied.
    """
    axes: list[tuple[str, list[str]]] = []
    for text in config.sweep:
        example = "for example: --sweep sft.lora.r=8,16,32"
        if "=" not in text:
            raise ConfigError(f"'{text}' is not key=v1,v2", field="sweep", hint=example)
        key, raw = (part.strip() for part in text.split("=", 1))
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if not key or not values:
            raise ConfigError(
                f"'{text}' needs a key and at least one value", field="sweep", hint=example
            )
        if key.split(".")[0] in UNSWEPT or key == "model.generator":
            raise ConfigError(
                f"'{key}' cannot be swept (it says what the run is)",
                field="sweep",
                hint="sweep a strategy's setting (sft.epochs, rag.top_k, ...); run the other "
                "values as runs of their own",
            )
        if any(key == seen for seen, _ in axes):
            raise ConfigError(f"'{key}' is swept twice", field="sweep")
        if len(set(values)) != len(values):
            raise ConfigError(f"'{key}' repeats a value", field="sweep")
        for value in values:
            try:
                swept = merge(config, parse_override(f"{key}={value}"))
            except ConfigError as exc:
                raise ConfigError(
                    f"{key}={value}: {_inner(exc)}", field="sweep", hint=exc.hint
                ) from None
            if dataclasses.is_dataclass(_lookup(swept, key)):
                raise ConfigError(f"'{key}' is a section; sweep one of its settings", field="sweep")
            swept.sweep = []
            try:
                validate(swept)
            except ConfigError as exc:
                raise ConfigError(
                    f"{key}={value}: {_inner(exc)}", field="sweep", hint=exc.hint
                ) from None
        axes.append((key, values))
    return axes


def _inner(exc: ConfigError) -> str:
    return (f"'{exc.field}' " if exc.field else "") + exc.message


def _lookup(config: Any, key: str) -> Any:
    value = config
    for part in key.split("."):
        value = getattr(value, part)
    return value


def with_settings(config: RunConfig, settings: Sequence[tuple[str, str]]) -> RunConfig:
    """A copy of `config` with each (key, value) applied, as `key=value` would be."""
    for key, value in settings:
        config = merge(config, parse_override(f"{key}={value}"))
    return config


def describe_fields(cls: type = RunConfig, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, help) for every setting: for `advisor compare --help-config`."""
    rows = []
    instance = cls()
    for f in dataclasses.fields(cls):
        value = getattr(instance, f.name)
        if dataclasses.is_dataclass(value):
            rows.extend(describe_fields(type(value), prefix=f"{prefix}{f.name}."))
        else:
            rows.append((f"{prefix}{f.name}", repr(value), f.metadata.get("help", "")))
    return rows
