"""Names from other tools (PyTorch, Keras, Caffe, Python) and what archdsl calls them.

When a body or an expression uses a name archdsl does not know, a person coming from another
tool has most often written that tool's name for something archdsl has under its own name
(`Conv2d`, `BatchNorm2d`, `Dense`, `int`). `foreign(word)` finds the entry; the diagnostic then
says what archdsl calls it instead of guessing a spelling ("did you mean `conv`?" for
`deconv` would be wrong: a transposed convolution is not a convolution).

The table is data: a row names the foreign spellings, the archdsl kind (or function) they
mean, and what the thing is. A kind that is not registered (yet) is tolerated: the note then
says archdsl has no such layer kind, so rows can be written before the kind exists.
Spellings are compared without case, `_`, and a `1d`/`2d`/`3d` suffix (archdsl's layers take
their rank from the input), so `max_pool2d`, `MaxPool2d` and `MaxPooling2D` are one row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Foreign:
    word: str  # as written
    kind: str  # what archdsl calls it
    what: str  # what it is, for the note
    exists: bool  # whether archdsl has that kind (or function) now


# spellings (space-separated, compared normalised) -> archdsl's kind, what it is
LAYERS: tuple[tuple[str, str, str], ...] = (
    ("conv convolution conv2d convnd", "conv", "a convolution"),
    ("deconv deconvolution convtranspose transposedconv conv2dtranspose", "conv_transpose",
     "a transposed convolution"),
    ("upsample upsampling interpolate resize upsamplingnearest upsamplingbilinear", "upsample",
     "an upsampling"),
    ("linear dense fc fullyconnected innerproduct", "linear", "a fully connected layer"),
    ("batchnorm batchnormalization bn batchnormnd", "batchnorm", "a batch normalisation"),
    ("layernorm layernormalization", "layernorm", "a layer normalisation"),
    ("groupnorm groupnormalization", "groupnorm", "a group normalisation"),
    ("instancenorm instancenormalization", "instancenorm", "an instance normalisation"),
    ("localresponsenorm localresponsenormalization", "lrn", "a local response normalisation"),
    ("maxpool maxpooling pooling", "maxpool", "a max pooling"),
    ("avgpool averagepooling avgpooling meanpool", "avgpool", "an average pooling"),
    ("adaptiveavgpool globalaveragepooling globalavgpool gap", "adaptive_avgpool",
     "an adaptive (or global) average pooling"),
    ("leakyrelu lrelu", "leaky_relu", "a leaky ReLU"),
    ("silu swish", "silu", "the SiLU activation"),
    ("dropoutnd spatialdropout", "dropout", "a dropout"),
    ("reshape view", "flatten", "a reshape (archdsl flattens with `flatten`)"),
    ("concatenate cat torchcat", "concat", "a concatenation"),
    ("sum residual eltwise elementwiseadd plus", "add", "an element-wise sum"),
    ("logsoftmax", "log_softmax", "a log-softmax"),
    ("identitylayer passthrough", "identity", "an identity"),
)

# names of functions in expressions that archdsl spells otherwise (its own: dsl/builtins.py)
FUNCTIONS: tuple[tuple[str, str, str], ...] = (
    ("trunc", "int", "`int(x)` rounds towards zero, `floor(x)` down"),
    ("pow", "**", "powers are written `a ** b`"),
    ("sqrt", "**", "the square root is `x ** 0.5`"),
    ("length size numel", "len", "`len(xs)` counts a list; a block reads its input's sizes as "
     "`in.channels`, `in.height`, `in.width`"),
    ("arange linspace", "range", "`range(a, b, step)` is a list of integers"),
)

MERGES = ("add", "concat")  # keywords, not registered kinds


def normalise(word: str) -> str:
    """`MaxPool2d`, `max_pool2d`, `MaxPooling2D` -> `maxpool`/`maxpooling`."""
    w = word.lower().replace("_", "")
    return re.sub(r"[123]d", "", w) or w


def _index(rows) -> dict[str, tuple[str, str]]:
    return {spelling: (kind, what) for names, kind, what in rows for spelling in names.split()}


_LAYERS = _index(LAYERS)
_FUNCTIONS = _index(FUNCTIONS)


def foreign_layer(word: str, known: set[str] | frozenset[str]) -> Foreign | None:
    """The row for a layer name from another tool, or None. `known` are the names that
    exist here (kinds, aliases, merges): a kind not among them is reported as missing. A word
    that is already archdsl's own name (`conv`) is not foreign."""
    if word in known:
        return None
    hit = _LAYERS.get(normalise(word))
    if hit is None:
        return None
    kind, what = hit
    return Foreign(word, kind, what, kind in known or kind in MERGES)


def foreign_function(word: str) -> Foreign | None:
    """The row for a function name from Python or another tool (`int`, `round`), or None."""
    hit = _FUNCTIONS.get(word.lower())
    return Foreign(word, hit[0], hit[1], True) if hit else None


def layer_note(f: Foreign) -> tuple[str, str | None]:
    """(note, help) for a foreign layer name."""
    if not f.exists:
        return (f"`{f.word}` is {f.what} in other tools; archdsl has no `{f.kind}` layer kind",
                "write it as a block of existing layers, or register a kind from Python "
                "(`archdsl.register_op`)")
    if f.kind in MERGES:
        return (f"`{f.word}` is {f.what} in other tools; archdsl calls it `{f.kind}`",
                f"write `{f.kind} {{ {{ ... }} {{ ... }} }}` with one `{{ ... }}` per branch")
    return (f"`{f.word}` is {f.what} in other tools; archdsl calls it `{f.kind}`",
            f"write `{f.kind}(...)`; `archdsl explain` and docs/language.md list its arguments")
