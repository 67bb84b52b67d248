"""The error catalogue: every diagnostic code, with a title, an explanation, a wrong example and
a right one. `archdsl explain E0301` prints an entry; a test checks that every code used in the
code base is here, that each wrong example fails with exactly its code and that each right
example checks clean.

Codes are grouped by hundreds: E01xx syntax, E02xx names, arguments and values, E03xx shape
rules, E04xx imports, E05xx recursion and resource limits, E06xx export (found by a backend,
not by `check`). W0xxx are warnings: printed like errors, they fail `check` only with
`--werror`. A code, once given, keeps its meaning.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from .escape import visible


@dataclass(frozen=True)
class Entry:
    """One code. `files` are other files the examples import (path relative to the example's
    folder -> text); `limits` and `sandbox` are what both examples run with; `params` are the
    network parameters given to the wrong example (`--set`), `right_params` to the right one."""

    code: str
    title: str
    explanation: str
    wrong: str
    right: str
    files: dict[str, str] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)
    right_params: dict[str, object] = field(default_factory=dict)
    limits: dict[str, int] = field(default_factory=dict)
    sandbox: bool = False
    wrong_encoding: str = "utf-8"  # how the wrong example is saved (E0108: not UTF-8)


_BLOCKS = "block unit(width) {\n    conv(width, 3x3, pad=1)\n    relu\n}\n"
_DEEP = "[" * 120 + "1" + "]" * 120

ENTRIES = [
    # ------------------------------------------------------------------ E01xx syntax
    Entry("E0101", "unexpected token or character",
          "The parser met something it cannot use at this point: a number where a layer should "
          "start, a `:` inside an argument list, two arguments without a comma, or a character "
          "that is not part of the language at all. The message says what was expected there.",
          "network net {\n    input 3x32x32\n    conv(16 3x3)\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3)\n}\n"),
    Entry("E0102", "unclosed bracket",
          "A `{`, `(` or `[` is never closed, or is closed by the wrong kind of bracket. The "
          "diagnostic points at the opening bracket and, when another bracket closed too early, "
          "at that one as well.",
          "network net {\n    input 3x32x32\n    conv(16, 3x3\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3)\n}\n"),
    Entry("E0103", "unexpected end of file",
          "The file ends in the middle of something: a definition without its body, an "
          "expression without its right-hand side. Finish the construct, or remove it.",
          "network net(classes = 10)\n",
          "network net(classes = 10) {\n    input 100\n    linear(classes)\n}\n"),
    Entry("E0104", "unmatched closing bracket",
          "A `}`, `)` or `]` closes nothing: there is no open bracket of its kind before it. "
          "Usually one bracket too many was typed.",
          "network net {\n    input 3x32x32\n    conv(16, 3x3))\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3)\n}\n"),
    Entry("E0105", "unterminated string",
          "A string starts with `\"` but does not end on the same line. Strings (import paths, "
          "`pad=\"same\"`) cannot span lines.",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, pad=\"same)\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, pad=\"same\")\n}\n"),
    Entry("E0106", "not a text file",
          "The file holds NUL bytes, so it is binary (an image, a checkpoint, a compiled file), "
          "not `.arch` source text. Nothing else is reported for it: its bytes would only make "
          "a screenful of syntax errors. Check the path, or the import.",
          "network net {\n    input 100\x00\n    linear(10)\n}\n",
          "network net {\n    input 100\n    linear(10)\n}\n"),
    Entry("E0108", "not UTF-8 text",
          "archdsl reads source files as UTF-8 only, and this file has a byte that is not "
          "UTF-8: it was saved in another encoding (Latin-1, Windows-1252, UTF-16). The "
          "diagnostic points at the first such byte; nothing else is reported for the file, "
          "and `archdsl fmt` leaves it unchanged. Save it as UTF-8 (`iconv -f latin1 -t "
          "utf-8`). A UTF-8 byte-order mark at the start is accepted (and `fmt` drops it).",
          "network net {\n    input 100   # taille d\u2019entr\u00e9e\n    linear(10)\n}\n",
          "network net {\n    input 100   # taille d\u2019entr\u00e9e\n    linear(10)\n}\n",
          wrong_encoding="cp1252"),
    Entry("E0107", "invisible or line-breaking character in a string or comment",
          "A string holds a character that is not visible (a carriage return, a tab, U+2028, a "
          "bidi control such as U+202E, a no-break space ...), or a comment holds a line break "
          "other than the newline, a bidi control or a control character. An editor shows "
          "such a file otherwise than archdsl reads it: a carriage return or U+2028 looks like "
          "a new line, a bidi control reorders the text around it. Strings have no escapes, "
          "so the character can only be removed (a CRLF line ending is fine).",
          "network net(mode = \"same\r\") {\n    input 3x32x32\n    conv(16, 3x3, pad=mode)\n}\n",
          "network net(mode = \"same\") {\n    input 3x32x32\n    conv(16, 3x3, pad=mode)\n}\n"),
    # ------------------------------------------------------------------ E02xx names, arguments
    Entry("E0201", "unknown layer kind or block",
          "An item names something that is neither a built-in layer kind, nor a block defined "
          "in this file or an imported one, nor a value bound with `y = ...`. A close match is "
          "suggested (`covn` -> `conv`).",
          "network net {\n    input 3x32x32\n    covn(16, 3x3)\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3)\n}\n"),
    Entry("E0202", "unknown argument",
          "A keyword argument that the layer kind (or block, or init function) does not take. "
          "The help lists the arguments it does take; a close match is suggested.",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, strid=2)\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, stride=2)\n}\n"),
    Entry("E0203", "missing argument or parameter",
          "A required argument was not given: `linear` needs its number of outputs, `conv` its "
          "filters and kernel, a block its parameters without defaults, a network its parameters "
          "without defaults (give those with `--set` or as keywords to `archdsl.load`).",
          "network net {\n    input 100\n    linear\n}\n",
          "network net {\n    input 100\n    linear(10)\n}\n"),
    Entry("E0204", "wrong type or value",
          "A value of the wrong kind or out of range: `bias=1` instead of `bias=true`, zero or "
          "negative filters, a dropout probability above 1, a repetition count that is not an "
          "integer, an input shape with too many dimensions.",
          "network net {\n    input 100\n    dropout(50)\n}\n",
          "network net {\n    input 100\n    dropout(0.5)\n}\n"),
    Entry("E0205", "misplaced positional argument",
          "Too many positional arguments, or a positional argument after a keyword one. Each "
          "layer kind takes a few arguments by position (conv: filters, kernel); name the rest.",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, 2)\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, stride=2)\n}\n"),
    Entry("E0206", "argument given twice",
          "The same argument was given twice, perhaps once by position and once by name, or "
          "under two of its names (`stride` and `s`).",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, stride=2, s=1)\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, stride=2)\n}\n"),
    Entry("E0207", "unknown name in an expression",
          "An expression uses a name that is not a parameter of the enclosing block or network, "
          "a value bound with `y = ...`, `in`, `x`, or a constant such as `same`.",
          "block unit(width) {\n    conv(widht, 3x3)\n}\n"
          "network net {\n    input 3x32x32\n    unit(16)\n}\n",
          "block unit(width) {\n    conv(width, 3x3)\n}\n"
          "network net {\n    input 3x32x32\n    unit(16)\n}\n"),
    Entry("E0208", "definition clash in one file",
          "Two blocks or networks of one file share a name, or a definition takes the name of a "
          "built-in layer kind (which would make the layer impossible to call).",
          "block conv(width) {\n    relu\n}\nnetwork net {\n    input 3x32x32\n    relu\n}\n",
          "block my_conv(width) {\n    relu\n}\nnetwork net {\n    input 3x32x32\n    relu\n}\n"),
    Entry("E0209", "duplicate name in a scope",
          "Two items of one scope have the same label. Labels become module paths "
          "(`layer1.0.conv1`), which must be unique; an item also takes only one label.",
          "network net {\n    input 3x32x32\n    conv1: conv(16, 3x3)\n"
          "    conv1: conv(32, 3x3)\n}\n",
          "network net {\n    input 3x32x32\n    conv1: conv(16, 3x3)\n"
          "    conv2: conv(32, 3x3)\n}\n"),
    Entry("E0210", "arguments that do not go together",
          "Arguments that are fine alone but contradict each other: `pad=\"same\"` with a stride "
          "other than 1, or a literal kernel together with a filter count or `groups` (a "
          "literal kernel is applied to each channel, so it sets both itself).",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, stride=2, pad=\"same\")\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, stride=2, pad=1)\n}\n"),
    Entry("E0211", "unknown network parameter",
          "A value was given (with `--set NAME=VALUE` or as a keyword to `archdsl.load`) for a "
          "parameter the network does not declare.",
          "network net(classes = 1000) {\n    input 512\n    linear(classes)\n}\n",
          "network net(classes = 1000) {\n    input 512\n    linear(classes)\n}\n",
          params={"clases": 10}, right_params={"classes": 10}),
    Entry("E0212", "no network to run",
          "The file defines no network (only blocks, for importing), or several networks and "
          "none was chosen. Choose one with `--network NAME` or `network=...` in the API; a file "
          "whose name matches one of its networks picks that one.",
          "block unit(width) {\n    conv(width, 3x3)\n}\n",
          "block unit(width) {\n    conv(width, 3x3)\n}\n"
          "network net {\n    input 3x32x32\n    unit(16)\n}\n"),
    Entry("E0213", "misplaced or missing input",
          "A network states the shape of one sample with `input` (batch left out) as the first "
          "line of its body, once. Blocks have no `input`: they take their caller's output.",
          "network net {\n    conv(16, 3x3)\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3)\n}\n"),
    Entry("E0214", "bad expression",
          "An operator met values it cannot work on: arithmetic on something that is not a "
          "number, division by zero, a condition that is not true or false (`if stride` "
          "instead of `if stride != 1`).",
          "block unit(width, stride = 1) {\n    conv(width, 3x3, stride=stride, pad=1)\n"
          "    if stride { batchnorm }\n}\nnetwork net {\n    input 3x32x32\n    unit(16)\n}\n",
          "block unit(width, stride = 1) {\n    conv(width, 3x3, stride=stride, pad=1)\n"
          "    if stride != 1 { batchnorm }\n}\n"
          "network net {\n    input 3x32x32\n    unit(16)\n}\n"),
    Entry("E0215", "unknown attribute",
          "Attributes read a tensor's shape: `in.channels`, `.height`, `.width`, `.depth`, "
          "`.length`, `.features`, `.rank`, `.size`, `.shape`. Numbers have no attributes, and a "
          "tensor lacks those its rank does not have (a vector has no `.height`).",
          "block unit(width) {\n    conv(in.channel * 2, 3x3)\n}\n"
          "network net {\n    input 3x32x32\n    unit(16)\n}\n",
          "block unit(width) {\n    conv(in.channels * 2, 3x3)\n}\n"
          "network net {\n    input 3x32x32\n    unit(16)\n}\n"),
    Entry("E0216", "a value used as a layer",
          "A body lists layers, block calls and values. A named value (`h = conv(...)`) can be "
          "written alone to continue from it, but it cannot be called or labelled; a number "
          "cannot stand where a layer goes.",
          "network net {\n    input 3x32x32\n    h = conv(16, 3x3, pad=1)\n    h(16)\n}\n",
          "network net {\n    input 3x32x32\n    h = conv(16, 3x3, pad=1)\n"
          "    { h; conv(16, 3x3) }\n}\n"),
    Entry("E0217", "misplaced init",
          "`init` statements apply to every matching layer of the block or network whose body "
          "states them, so they belong at the top level of that body, not inside a branch, a "
          "group or a conditional.",
          "network net {\n    input 3x32x32\n    { init conv.weight = zeros; conv(3, 3x3) }\n}\n",
          "network net {\n    input 3x32x32\n    init conv.weight = zeros\n    conv(3, 3x3)\n}\n"),
    Entry("E0220", "a network called like a block",
          "Only blocks can be called from a body. A network is a whole model with its own "
          "input; put the shared part in a block and call that.",
          "network stem {\n    input 3x32x32\n    conv(16, 3x3)\n}\n"
          "network main {\n    input 3x32x32\n    stem\n}\n",
          "block stem {\n    conv(16, 3x3)\n}\n"
          "network main {\n    input 3x32x32\n    stem\n}\n"),
    Entry("E0221", "a merge without enough branches",
          "`add` sums at least two branches and `concat` needs at least one. An empty branch "
          "`{}` is the identity (the shortcut of a residual block).",
          "network net {\n    input 64x8x8\n    add {\n        { conv(64, 3x3, pad=1) }\n"
          "    }\n}\n",
          "network net {\n    input 64x8x8\n    add {\n        { conv(64, 3x3, pad=1) }\n"
          "        {}\n    }\n}\n"),
    Entry("E0222", "bad init statement",
          "An `init` statement names an unknown init function, or a target that is not a layer "
          "kind or label followed by `.weight` or `.bias`.",
          "network net {\n    input 3x32x32\n    init conv.weight = kaiming_normall\n"
          "    conv(16, 3x3)\n}\n",
          "network net {\n    input 3x32x32\n    init conv.weight = kaiming_normal\n"
          "    conv(16, 3x3)\n}\n"),
    Entry("E0223", "a label that PyTorch reserves",
          "Labels become attribute names of PyTorch modules (`model.layer1.conv1`), so a label "
          "cannot be a Python keyword (`global`, `lambda`, `class`) or a name that "
          "`torch.nn.Module` already uses (`forward`, `train`, `eval`, `to`, `type`, `float`, "
          "`parameters`, ...). This holds for scopes too: a labelled block call or group. "
          "Add an underscore (`forward_`) or pick another name.",
          "network net {\n    input 3x32x32\n    forward: conv(16, 3x3)\n}\n",
          "network net {\n    input 3x32x32\n    forward_: conv(16, 3x3)\n}\n"),
    Entry("E0230", "a misplaced return",
          "`return a, b` names the outputs of a network with several (a main and an auxiliary "
          "head, the feature maps of a backbone). It is the last line of a network's body; a "
          "block gives one value, the output of its last item.",
          "block head {\n    conv(8, 1x1)\n    return in\n}\n\nnetwork net {\n"
          "    input 3x8x8\n    head\n}\n",
          "network net {\n    input 3x8x8\n    h = conv(8, 1x1)\n"
          "    aux = { h; avgpool(global=true) }\n    main = { h; conv(4, 1x1) }\n"
          "    return main, aux\n}\n"),
    Entry("E0231", "a misused inline call",
          "`inline b(...)` makes the body of block `b` in the caller's scope: its layers are "
          "numbered on from the caller's and its labels sit beside the caller's, as if the body "
          "were written out at the call. Only a block call can be inline (a layer kind or a "
          "value makes no scope to leave out), and an inline call takes no label: a label "
          "would give it a scope of its own, which is what a plain call does.",
          "block stem(w) {\n    conv(w, 3x3, pad=1)\n    relu\n}\n\nnetwork net {\n"
          "    input 3x32x32\n    features: inline stem(16)\n}\n",
          "block stem(w) {\n    conv(w, 3x3, pad=1)\n    relu\n}\n\nnetwork net {\n"
          "    input 3x32x32\n    features: stem(16)\n    inline stem(16)\n}\n"),
    Entry("E0232", "a parameter default that reads a later parameter",
          "Parameter defaults are evaluated in order, left to right, when the block is called "
          "(or the network made): a default can read the parameters declared before it, and "
          "`in` in a block, but not a parameter declared after it, which has no value yet. "
          "Declare the parameter that is read first.",
          "block unit(width = planes * 4, planes = 16) {\n    conv(width, 1x1)\n}\n\n"
          "network net {\n    input 3x8x8\n    unit\n}\n",
          "block unit(planes = 16, width = planes * 4) {\n    conv(width, 1x1)\n}\n\n"
          "network net {\n    input 3x8x8\n    unit\n}\n"),
    Entry("E0240", "not a list",
          "A loop goes over a list (or a tuple, a size, `range(n)`, `enumerate(xs)`), and "
          "`len`, `sum`, `enumerate`, `zip` and indexing `xs[i]` read one; this value is a "
          "number, a string or a tensor. To repeat an item n times, loop over `range(n)` or "
          "write `item * n`.",
          "network net(n = 3) {\n    input 3x8x8\n    for i in n { conv(8, 3x3, pad=1) }\n}\n",
          "network net(n = 3) {\n    input 3x8x8\n    for i in range(n) { conv(8, 3x3, pad=1) }"
          "\n}\n"),
    Entry("E0241", "a pattern that does not fit its value",
          "`for (t, c, n, s) in setting`, `let (a, b) = pair` and `[c for (t, c) in rows]` take "
          "each element apart: the "
          "element must be a tuple (or list) of exactly as many values as the pattern names. "
          "A row of the table with a value too few or too many, or a pattern with the wrong "
          "number of names, is reported at the pattern, with the element it met.",
          "network net(setting = [(16, 1), (24, 2, 2)]) {\n    input 3x8x8\n"
          "    for (c, s) in setting { conv(c, 3x3, stride=s, pad=1) }\n}\n",
          "network net(setting = [(16, 1), (24, 2)]) {\n    input 3x8x8\n"
          "    for (c, s) in setting { conv(c, 3x3, stride=s, pad=1) }\n}\n"),
    Entry("E0242", "index out of range",
          "`xs[i]` reads element i of a list, tuple, size or string: 0 is the first, -1 the "
          "last, and an index beyond either end is an error (a slice `xs[a:b]` is clipped to "
          "the ends instead, as in Python).",
          "network net(widths = [8, 16]) {\n    input 3x8x8\n    conv(widths[2], 3x3)\n}\n",
          "network net(widths = [8, 16]) {\n    input 3x8x8\n    conv(widths[1], 3x3)\n}\n"),
    Entry("E0243", "not an integer",
          "An index, a slice bound and the arguments of `range` are integers. A number such as "
          "`2.0` or `0.75 * 32` is not one, even when it has no fraction: say how to round it "
          "with `int(x)` (towards zero), `round(x)` (to the nearest, half to even, as Python), "
          "`floor(x)` or `ceil(x)`.",
          "network net(alpha = 0.5) {\n    input 3x8x8\n"
          "    for i in range(4 * alpha) { conv(8, 3x3, pad=1) }\n}\n",
          "network net(alpha = 0.5) {\n    input 3x8x8\n"
          "    for i in range(int(4 * alpha)) { conv(8, 3x3, pad=1) }\n}\n"),
    Entry("E0244", "a computed label that is not a name",
          "A label computed from expressions (`denselayer{i + 1}: ...`) joins its text and the "
          "values of its `{...}` parts, which are integers or strings; the result must be a "
          "name (letters, digits and `_`, not starting with a digit). A number with a "
          "fraction, a negative number or a string with a space cannot be part of one.",
          "network net {\n    input 3x8x8\n"
          "    for i in range(2) { layer{i - 1}: conv(8, 3x3, pad=1) }\n}\n",
          "network net {\n    input 3x8x8\n"
          "    for i in range(2) { layer{i + 1}: conv(8, 3x3, pad=1) }\n}\n"),
    Entry("E0245", "a tensor where a constant goes",
          "Numbers and tensors are bound differently: `let w = 4 * width` names a constant (a "
          "number, size, string, list or tuple), `x = conv(...)` names the tensor an item "
          "makes. A `let` or a loop variable cannot hold a tensor; read a tensor's sizes with "
          "`.channels` or `.shape` instead.",
          "network net {\n    input 3x8x8\n    let x = in\n    conv(8, 3x3)\n}\n",
          "network net {\n    input 3x8x8\n    let c = in.channels\n    conv(2 * c, 3x3)\n}\n"),
    Entry("E0246", "a constant defined twice",
          "A `let` defines a name once in its body, and a pattern names each value once; the "
          "block's parameters and `in` are already defined. A loop's body is a new scope for "
          "each iteration, so a `let` there is defined once per iteration.",
          "network net(width = 8) {\n    input 3x8x8\n    let width = 2 * width\n"
          "    conv(width, 3x3)\n}\n",
          "network net(width = 8) {\n    input 3x8x8\n    let w = 2 * width\n"
          "    conv(w, 3x3)\n}\n"),
    # ------------------------------------------------------------------ E03xx shape rules
    Entry("E0301", "kernel or window does not fit",
          "A conv or pool's output size W2 = floor((W1 - F + 2P)/S) + 1 came out below 1: the "
          "window is larger than its padded input. The notes show the arithmetic with the "
          "numbers of this layer and where its input came from.",
          "network net {\n    input 16x5x5\n    conv(120, 7x7)\n}\n",
          "network net {\n    input 16x5x5\n    conv(120, 5x5)\n}\n"),
    Entry("E0302", "rank mismatch",
          "A sliding window needs spatial dimensions (a conv after `flatten` has none), and a "
          "kernel, stride or padding given per dimension must have as many numbers as the input "
          "has spatial dimensions (3x3 for images, 3x3x3 for volumes).",
          "network net {\n    input 3x32x32\n    conv(16, 3x3x3)\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3)\n}\n"),
    Entry("E0303", "groups do not divide the channels",
          "A grouped conv splits input channels and filters into `groups` equal parts, so both "
          "must be divisible by it.",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, groups=2)\n}\n",
          "network net {\n    input 4x32x32\n    conv(16, 3x3, groups=2)\n}\n"),
    Entry("E0304", "concat of mismatched shapes",
          "concat stacks its inputs along the channels, so every other dimension (height, "
          "width) must agree. Give every branch the same stride and padding.",
          "network net {\n    input 64x28x28\n    concat {\n        { conv(32, 1x1) }\n"
          "        { conv(32, 3x3) }\n    }\n}\n",
          "network net {\n    input 64x28x28\n    concat {\n        { conv(32, 1x1) }\n"
          "        { conv(32, 3x3, pad=1) }\n    }\n}\n"),
    Entry("E0305", "add of mismatched shapes",
          "add sums its inputs element by element: channels, height and width must all agree. "
          "In a residual block, project the shortcut (1x1 conv with the main path's stride and "
          "channels) when they differ.",
          "network net {\n    input 64x56x56\n    add {\n        { conv(128, 3x3, pad=1) }\n"
          "        {}\n    }\n}\n",
          "network net {\n    input 64x56x56\n    add {\n        { conv(128, 3x3, pad=1) }\n"
          "        { conv(128, 1x1) }\n    }\n}\n"),
    Entry("E0306", "linear on a volume",
          "linear (fully connected) takes a vector. After convolutions the data is a CxHxW "
          "volume: put `flatten` before the first linear layer.",
          "network net {\n    input 3x32x32\n    conv(16, 3x3)\n    linear(10)\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3)\n    flatten\n    linear(10)\n}\n"),
    Entry("E0307", "normalisation on the wrong rank",
          "batchnorm handles maps with 1 to 3 spatial dimensions (and vectors); local response "
          "norm needs channels and at least one spatial dimension, instancenorm more than one "
          "position per channel, groupnorm more than one value per group.",
          "network net {\n    input 3x32x32\n    flatten\n    lrn(5)\n}\n",
          "network net {\n    input 3x32x32\n    lrn(5)\n    flatten\n}\n"),
    Entry("E0308", "pool padding larger than half the window",
          "PyTorch requires a pool's padding to be at most half its (dilated) window; more "
          "padding would make windows that see only padding.",
          "network net {\n    input 3x32x32\n    maxpool(2x2, pad=2)\n}\n",
          "network net {\n    input 3x32x32\n    maxpool(3x3, stride=2, pad=1)\n}\n"),
    Entry("E0309", "dimension out of range",
          "softmax and concat take a `dim` counted from 0 = channels, with the batch left out "
          "(torch's dim is this + 1); negative dims count from the end. It must exist in the "
          "input.",
          "network net {\n    input 100\n    linear(10)\n    softmax(dim=1)\n}\n",
          "network net {\n    input 100\n    linear(10)\n    softmax(dim=0)\n}\n"),
    Entry("E0310", "literal kernel of the wrong rank",
          "A literal kernel slides over the input's spatial dimensions, so it needs one level of "
          "brackets per spatial dimension: `[[...], [...]]` for an image.",
          "network net {\n    input 1x28x28\n    conv([1, 2, 1])\n}\n",
          "network net {\n    input 1x28x28\n"
          "    conv([[1, 2, 1], [2, 4, 2], [1, 2, 1]] / 16)\n}\n"),
    # E0320-E0329: the layer kinds of decoders, modern blocks and reshapes (issue 12)
    Entry("E0320", "transposed conv output padding too large",
          "A strided conv maps S input sizes to the same output size; a transposed conv's "
          "`output_pad` picks which of them it makes, so PyTorch requires it to be smaller than "
          "the stride (or the dilation). The note shows the size rule "
          "W2 = (W1 - 1)*S - 2P + D*(F - 1) + output_pad + 1.",
          "network net {\n    input 8x4x4\n    conv_transpose(4, 3x3, stride=2, output_pad=2)\n"
          "}\n",
          "network net {\n    input 8x4x4\n    conv_transpose(4, 3x3, stride=2, pad=1, "
          "output_pad=1)\n}\n"),
    Entry("E0321", "a reshape that changes the number of values",
          "`reshape` and `unflatten` rearrange values without making or dropping any: the new "
          "shape must hold exactly as many values as the input (the note multiplies both out).",
          "network net {\n    input 64\n    unflatten(4x5x5)\n}\n",
          "network net {\n    input 64\n    unflatten(4x4x4)\n}\n"),
    Entry("E0322", "a size that a factor does not divide",
          "`glu` halves a dimension (so its size must be even); `pixel_shuffle(r)` needs "
          "channels divisible by r*r, `pixel_unshuffle(r)` a height and width divisible by r.",
          "network net {\n    input 12x8x8\n    pixel_shuffle(3)\n}\n",
          "network net {\n    input 18x8x8\n    pixel_shuffle(3)\n}\n"),
    Entry("E0323", "reflect or circular padding larger than the input",
          "Reflect padding mirrors the input without repeating its edge, so each amount must be "
          "smaller than the size it pads; circular padding wraps around, at most once (P <= W). "
          "Replicate and constant padding take any amount.",
          "network net {\n    input 3x4x4\n    pad(4, mode=\"reflect\")\n}\n",
          "network net {\n    input 3x4x4\n    pad(3, mode=\"reflect\")\n}\n"),
    Entry("E0324", "permute dims that are not an order of the dimensions",
          "`permute` takes every dimension of its input exactly once, batch left out: "
          "`permute(1, 2, 0)` moves the channels of a CxHxW map last.",
          "network net {\n    input 3x4x4\n    permute(1, 1, 0)\n}\n",
          "network net {\n    input 3x4x4\n    permute(1, 2, 0)\n}\n"),
    Entry("E0325", "a learned scale that does not broadcast",
          "`scale` multiplies its input by a learned tensor with torch's broadcasting: aligned "
          "from the last dimension, each of the scale's sizes must be 1 or the input's, so the "
          "output keeps the input's shape. One factor per channel of a CxHxW map is Cx1x1.",
          "network net {\n    input 8x4x4\n    scale(shape=8x1)\n}\n",
          "network net {\n    input 8x4x4\n    scale(shape=8x1x1)\n}\n"),
    # E0330-E0339: merges, resizing, crops and splits (issue 12's structural kinds)
    Entry("E0330", "shapes that do not broadcast",
          "mul, sub, div, max and min (and `add(..., broadcast=true)`) broadcast as torch does: "
          "the shapes, batch included, are lined up from the right and each pair of sizes must "
          "be equal or one of them 1, which is stretched. Inputs must have the same rank, since "
          "the batch lines up with the batch. The gate of squeeze-and-excitation is Cx1x1 "
          "against CxHxW.",
          "network net {\n    input 64x8x8\n    h = conv(64, 3x3, pad=1)\n"
          "    s = { avgpool(global=true); conv(32, 1x1); sigmoid }\n    mul(h, s)\n}\n",
          "network net {\n    input 64x8x8\n    h = conv(64, 3x3, pad=1)\n"
          "    s = { avgpool(global=true); conv(64, 1x1); sigmoid }\n    mul(h, s)\n}\n"),
    Entry("E0331", "a crop larger than its input",
          "crop cuts the borders off, centred: offset (in - out) // 2 before, the rest after. "
          "It cannot make a dimension larger; crop the larger tensor to the smaller (in a "
          "valid-conv U-Net, the skip to the decoder's size).",
          "network net {\n    input 8x28x28\n    crop(32x32)\n}\n",
          "network net {\n    input 8x28x28\n    crop(24x24)\n}\n"),
    Entry("E0332", "several values, and the names that take them",
          "chunk and split give several values; unpack them into as many names, "
          "`[a, b] = chunk(2)` (torch.chunk may give fewer pieces than asked: 6 channels in 4 "
          "chunks are 3 pieces of 2). Only they give several values, and split's sizes must "
          "add up to the dimension.",
          "network net {\n    input 6x8x8\n    [a, b, c, d] = chunk(4)\n"
          "    concat(a, b, c, d)\n}\n",
          "network net {\n    input 6x8x8\n    [a, b, c] = chunk(4)\n    concat(a, b, c)\n}\n"),
    # ------------------------------------------------------------------ E04xx imports
    Entry("E0401", "import not found or not an .arch file",
          "Imports resolve relative to the importing file, then along the search path "
          "(`-I DIR`). Only `.arch` files can be imported: a `.arch` file never runs code.",
          f"import \"blocks.py\"\n{_BLOCKS}"
          "network net {\n    input 3x32x32\n    conv(8, 3x3)\n}\n",
          "import \"blocks.arch\"\nnetwork net {\n    input 3x32x32\n    unit(8)\n}\n",
          files={"blocks.arch": _BLOCKS}),
    Entry("E0402", "import cycle",
          "Files import each other in a circle. Move the shared blocks into a third file that "
          "both import.",
          "import \"blocks.arch\"\nnetwork net {\n    input 3x32x32\n    unit(8)\n}\n",
          "import \"base.arch\"\nnetwork net {\n    input 3x32x32\n    unit(8)\n}\n",
          files={"blocks.arch": "import \"main.arch\"\n" + _BLOCKS, "base.arch": _BLOCKS}),
    Entry("E0403", "the same name from two files",
          "Two definitions with one name reach a file, through two imports or an import and a "
          "local definition. Rename one of them.",
          "import \"blocks.arch\"\n" + _BLOCKS +
          "network net {\n    input 3x32x32\n    unit(8)\n}\n",
          "import \"blocks.arch\"\nnetwork net {\n    input 3x32x32\n    unit(8)\n}\n",
          files={"blocks.arch": _BLOCKS}),
    Entry("E0404", "import outside the sandbox",
          "With `--sandbox` (`sandbox=True` in the API) no import may leave the folder of the "
          "first file, so a file from a stranger cannot read files elsewhere on your disk.",
          "import \"../shared/blocks.arch\"\nnetwork net {\n    input 3x32x32\n    unit(8)\n}\n",
          "import \"blocks.arch\"\nnetwork net {\n    input 3x32x32\n    unit(8)\n}\n",
          files={"../shared/blocks.arch": _BLOCKS, "blocks.arch": _BLOCKS}, sandbox=True),
    # ------------------------------------------------------------------ E05xx recursion, limits
    Entry("E0501", "a block that calls itself",
          "A block contains itself, directly or through other blocks, so it would never end. "
          "Repeat a block with `* N` or a list instead.",
          "block tower(width) {\n    conv(width, 3x3, pad=1)\n    tower(width)\n}\n"
          "network net {\n    input 3x32x32\n    tower(16)\n}\n",
          "block tower(width) {\n    conv(width, 3x3, pad=1)\n}\n"
          "network net {\n    input 3x32x32\n    tower(16) * 3\n}\n"),
    Entry("E0502", "bad repetition count",
          "`item * N` repeats an item N times; N must be 0 or more and at most the limit "
          "(`--max-repeat`, default 100,000).",
          "network net(depth = 3) {\n    input 3x32x32\n    conv(8, 3x3, pad=1) * (depth - 5)\n}\n",
          "network net(depth = 3) {\n    input 3x32x32\n    conv(8, 3x3, pad=1) * depth\n}\n"),
    Entry("E0503", "too many layers",
          "The network expands to more layers than the limit (`--max-layers`, default "
          "1,000,000). Elaboration stops there, before any more memory is used.",
          "network net {\n    input 3x32x32\n    relu * 20\n}\n",
          "network net {\n    input 3x32x32\n    relu * 5\n}\n", limits={"max_layers": 10}),
    Entry("E0504", "blocks nested too deeply",
          "Block calls nest deeper than the limit (`--max-depth`, default 100).",
          "block a(w) { b(w) }\nblock b(w) { c(w) }\nblock c(w) { conv(w, 3x3) }\n"
          "network net {\n    input 3x32x32\n    a(8)\n}\n",
          "block a(w) { conv(w, 3x3) }\n"
          "network net {\n    input 3x32x32\n    a(8)\n}\n", limits={"max_depth": 1}),
    Entry("E0505", "too many parameters",
          "The network has more parameters than the limit (`--max-params`, default 10^11). "
          "Counting is arithmetic on shapes; nothing is allocated, so a file asking for "
          "10^15 parameters fails at once.",
          "network net {\n    input 100\n    linear(1000)\n}\n",
          "network net {\n    input 100\n    linear(10)\n}\n", limits={"max_params": 10_000}),
    Entry("E0506", "tensor too large",
          "One activation (one sample's output of a layer, or the input) has more elements "
          "than the limit (`--max-tensor`, 2^40 by default).",
          "network net {\n    input 3x1024x1024\n    conv(2000000, 3x3, pad=1)\n}\n",
          "network net {\n    input 3x1024x1024\n    conv(64, 3x3, pad=1)\n}\n"),
    Entry("E0507", "number too large",
          "An integer literal or the result of integer arithmetic is beyond 2^62: no real "
          "network needs it, and such numbers only make the compiler slow.",
          "network net {\n    input 3x32x32\n    conv(2 ** 64, 3x3)\n}\n",
          "network net {\n    input 3x32x32\n    conv(2 ** 6, 3x3)\n}\n"),
    Entry("E0508", "imports nested too deeply",
          "A chain of imports is longer than the limit (`--max-import-depth`, 32 files by "
          "default).",
          "import \"blocks.arch\"\nnetwork net {\n    input 3x32x32\n    unit(8)\n}\n",
          "network net {\n    input 3x32x32\n    conv(8, 3x3, pad=1)\n    relu\n}\n",
          files={"blocks.arch": _BLOCKS}, limits={"max_import_depth": 1}),
    Entry("E0509", "nesting too deep",
          "Brackets, expressions or blocks nest deeper than the compiler follows (100 levels "
          "of syntax). Split deep expressions into named parameters or blocks.",
          f"network net {{\n    input 100\n    conv({_DEEP})\n}}\n",
          "network net {\n    input 100\n    linear(1)\n}\n"),
    Entry("E0510", "source file too large",
          "A source file (or an imported one) is larger than the limit (`--max-file-size`, "
          "1 MiB by default; a text given to the API is measured in characters). The size is "
          "checked before the file is read, so a huge or endless input costs nothing. Real "
          "networks are a few kilobytes; raise the limit if a generated file needs more.",
          "network net {\n    input 3x32x32\n    conv(16, 3x3, pad=1)\n    relu\n"
          "    conv(16, 3x3, pad=1)\n    relu\n}\n",
          "network net {\n    input 3x32x32\n    conv(16, 3x3)\n}\n",
          limits={"max_file_size": 64}),
    Entry("E0511", "too much work",
          "Parsing and elaborating the file take more work than the budget of one run "
          "(`--max-work`, 1,500,000 units by default, a unit being about a microsecond). The "
          "budget counts what the compiler does, not only what it makes: tokens parsed, items "
          "elaborated, block calls, layers, expressions, diagnostics. A block that calls another "
          "twice, forty levels deep, makes 2^40 calls; an unknown layer inside nested "
          "repetitions fails a million times. After the second copy of a repetition the cost "
          "of the rest is projected, so such a file stops at once.",
          "block twice(w) {\n    conv(w, 3x3, pad=1)\n    conv(w, 3x3, pad=1)\n}\n"
          "block four(w) {\n    twice(w)\n    twice(w)\n}\n"
          "network net {\n    input 3x32x32\n    four(8) * 100\n}\n",
          "block twice(w) {\n    conv(w, 3x3, pad=1)\n    conv(w, 3x3, pad=1)\n}\n"
          "block four(w) {\n    twice(w)\n    twice(w)\n}\n"
          "network net {\n    input 3x32x32\n    four(8) * 2\n}\n",
          limits={"max_work": 5_000}),
    Entry("E0512", "more memory than a machine has",
          "The weights of the network (parameters and buffers, 4 bytes each as float32), or one "
          "activation of one sample, need more memory than the limit (`--max-memory`, 16 GiB "
          "by default). The sizes are arithmetic on shapes, before anything is allocated: a "
          "`linear(100000)` on a 100,000-feature input is 40 GB of weights, found by `check` "
          "instead of by `export` running out of memory. `to_torch()` and the commands that "
          "build the model also compare the weights with the memory this machine has free.",
          "network net {\n    input 100000\n    linear(100000)\n}\n",
          "network net {\n    input 100000\n    linear(1000)\n}\n"),
    # ------------------------------------------------------------------ W0xxx warnings
    # Printed like errors, but `check` passes unless --werror; found in each file as it is
    # loaded (dsl/lint.py), so a library of blocks is checked too.
    Entry("W0001", "a value that is never used",
          "A value bound with `name = ...` (or a piece of `[a, b] = chunk(2)`) is read nowhere "
          "in its block or network: not as an item (`{ name; ... }`), in a merge "
          "(`add(name, ...)`), in an expression or in `return`. Usually a leftover, or a typo "
          "in the place that was meant to read it. Remove the binding; a name that starts "
          "with `_` is never reported, for a piece of a split that is not needed.",
          "network net {\n    input 3x8x8\n    skip = { conv(8, 1x1); relu }\n"
          "    conv(8, 3x3, pad=1)\n}\n",
          "network net {\n    input 3x8x8\n    skip = { conv(8, 1x1); relu }\n"
          "    conv(8, 3x3, pad=1)\n    add(x, skip)\n}\n"),
    Entry("W0002", "a binding that looks like a label",
          "`conv1 = conv(...)` binds the layer's output to the value `conv1`; it does not name "
          "the layer, which is numbered in its scope like any unlabelled layer, so its module "
          "path and `state_dict` keys are `3.weight`, not `conv1.weight`. Reported when a "
          "binding of one layer or block call is never used, or is named like a label of that "
          "layer (the kind, then a number). A label is `conv1: conv(...)`; to have both, "
          "write `conv1 = conv1: conv(...)`.",
          "network net {\n    input 3x8x8\n    conv1 = conv(8, 3x3)\n    relu\n}\n",
          "network net {\n    input 3x8x8\n    conv1: conv(8, 3x3)\n    relu\n}\n"),
    Entry("W0003", "a value that hides `x` or `in`",
          "`x` is the current tensor (what flows into each item) and `in` the block's input "
          "(in a network, the network's input). A value bound with the same name hides them "
          "from there on: `x.channels` is then that value's, wherever it is read. Give the "
          "value another name.",
          "network net {\n    input 3x8x8\n    x = conv(8, 1x1)\n    conv(x.channels, 3x3)\n}\n",
          "network net {\n    input 3x8x8\n    h = conv(8, 1x1)\n    conv(h.channels, 3x3)\n}\n"),
    # ------------------------------------------------------------------ E06xx export
    # Raised by `archdsl export` / `to_onnx`, not by `check`: the file is a valid network that
    # ONNX cannot express. tests/torch/test_onnx.py exports both examples.
    Entry("E0601", "a layer ONNX cannot express",
          "`archdsl export` found a layer that the ONNX format (at the chosen opset) has no "
          "operator for. ONNX has no adaptive pooling: an `adaptive_avgpool` exports only when "
          "its output is 1 everywhere or divides its input size (it is then a plain average "
          "pool). Other layers the exporter refuses are reported at the layer it names. Every "
          "exported file is also checked before it is written (the ONNX checker, then "
          "onnxruntime on a random batch against PyTorch); a file that fails is this error at "
          "the layer where it goes wrong, and nothing is written. "
          "Change the input size, or use a layer with a fixed window.",
          "network net {\n    input 3x20x20\n    conv(8, 3x3)\n    adaptive_avgpool(4x4)\n}\n",
          "network net {\n    input 3x18x18\n    conv(8, 3x3)\n    adaptive_avgpool(4x4)\n}\n"),
]

CATALOGUE: dict[str, Entry] = {e.code: e for e in ENTRIES}


def _indent(text: str) -> str:
    text = visible(text, keep="\n")  # E0106's example holds a NUL byte
    return "\n".join("    " + line if line else "" for line in text.rstrip("\n").split("\n"))


def explain(code: str) -> str:
    """The catalogue entry for `code` as text: title, explanation, wrong and right examples."""
    e = CATALOGUE[code.upper()]
    main = " (main.arch)" if e.files else ""
    out = [f"{e.code}: {e.title}", "", textwrap.fill(e.explanation, 88), "",
           f"Wrong{main}:", "", _indent(e.wrong)]
    out += _conditions(e.params, e)
    if e.wrong_encoding != "utf-8":
        out += ["", f"  saved as {e.wrong_encoding}"]
    out += ["", f"Right{main}:", "", _indent(e.right)]
    out += _conditions(e.right_params, e)
    for path, text in e.files.items():
        out += ["", f"where {path} is:", "", _indent(text)]
    return "\n".join(out) + "\n"


def _conditions(params: dict, e: Entry) -> list[str]:
    given = [f"--set {k}={v}" for k, v in params.items()]
    given += [f"--{k.replace('_', '-')} {v}" for k, v in e.limits.items()]
    given += ["--sandbox"] if e.sandbox else []
    return ["", "  run with " + " ".join(given)] if given else []
