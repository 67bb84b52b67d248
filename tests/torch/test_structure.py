"""Issue 12's structural kinds against torch itself: broadcasting merges, upsample, crop,
chunk/split, several outputs, custom multi-input kinds.

Each property writes a small network as `.arch` text and computes the same thing with plain
torch calls (torch.mul / torch.maximum ..., F.interpolate, torch.chunk / torch.split, slicing,
torch.broadcast_shapes): where torch gives a result, the IR's shape and the compiled module's
values must equal it; where torch raises, the front end answers with a located diagnostic.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archdsl
from archdsl import ops
from archdsl.backends.torch.module import submodule

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.usefixtures("one_torch_thread")

OPS = {"mul": torch.mul, "sub": torch.sub, "div": torch.div, "max": torch.maximum,
       "min": torch.minimum, "add": torch.add}


def _dims(shape) -> str:
    return "x".join(map(str, shape))


def _codes(text: str) -> list[str]:
    with pytest.raises(archdsl.ArchError) as err:
        archdsl.parse(text)
    return [d.code for d in err.value.diagnostics]


# ---------------------------------------------------------------- broadcasting merges
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4), st.booleans(), st.booleans()),
                min_size=1, max_size=4), st.sampled_from(sorted(OPS)))
def test_broadcast_rule_is_torchs(dims, kind):
    """The shape rule against torch.broadcast_shapes, batch N included, for random pairs."""
    a = tuple(1 if one_a else x for x, _, one_a, _ in dims)
    b = tuple(1 if one_b else y for _, y, _, one_b in dims)
    spec = ops.get(kind)
    args = {"broadcast": True} if kind == "add" else {}
    try:
        want = tuple(torch.broadcast_shapes((2, *a), (2, *b)))[1:]
    except RuntimeError:
        with pytest.raises(ops.ShapeProblem) as prob:
            spec.shape(args, [a, b])
        assert prob.value.code == "E0330"
        return
    assert spec.shape(args, [a, b]) == want


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 5),
       st.tuples(st.booleans(), st.booleans()), st.sampled_from(sorted(OPS)), st.booleans())
def test_broadcast_merge_values(c, h, w, ones, kind, swap):
    """`mul(x, y)` with y an average over some dims (Cx1xW, CxHx1, Cx1x1): the compiled module
    equals the torch call on the same tensors, in either order."""
    kh, kw = (h if ones[0] else 1), (w if ones[1] else 1)
    extra = ", broadcast=true" if kind == "add" else ""
    pair = "y, x" if swap else "x, y"
    net = archdsl.parse(f"network t {{\n  input {c}x{h}x{w}\n  x = identity\n"
                        f"  y = avgpool(({kh}, {kw}))\n  {kind}({pair}{extra})\n}}\n")
    x = torch.randn(2, c, h, w)
    y = F.avg_pool2d(x, (kh, kw))
    want = OPS[kind](*((y, x) if swap else (x, y)))
    assert net.output_shape == tuple(want.shape[1:])
    got = net.to_torch()(x)
    torch.testing.assert_close(got, want)


def test_add_keeps_its_strict_check_unless_told():
    text = "network t {\n  input 4x8x8\n  s = avgpool(global=true)\n  add(in, s%s)\n}\n"
    assert _codes(text % "") == ["E0305"]
    assert archdsl.parse(text % ", broadcast=true").output_shape == (4, 8, 8)


def test_broadcast_failure_names_both_shapes():
    with pytest.raises(archdsl.ArchError) as err:
        archdsl.parse("network t {\n  input 4x8x8\n  s = { avgpool(global=true); conv(3, 1x1) }"
                      "\n  mul(in, s)\n}\n")
    d = err.value.diagnostics[0]
    assert d.code == "E0330" and "4x8x8 and 3x1x1" in d.message
    assert any("channels): 4 vs 3" in n for n in d.notes)
    assert d.span.line == 4


def test_a_merge_of_several_chains_left_to_right():
    net = archdsl.parse("network t {\n  input 3x4x4\n  a = relu\n  b = { in; tanh }\n"
                        "  c = { in; sigmoid }\n  mul(a, b, c)\n}\n")
    x = torch.randn(2, 3, 4, 4)
    torch.testing.assert_close(net.to_torch()(x), x.relu() * x.tanh() * x.sigmoid())


def test_merge_arity_is_checked():
    assert _codes("network t {\n  input 3x4x4\n  a = relu\n  sub(a, a, a)\n}\n") == ["E0221"]
    assert _codes("network t {\n  input 3x4x4\n  mul\n}\n") == ["E0221"]


# ---------------------------------------------------------------- upsample
MODES = {1: ["nearest", "linear", "nearest-exact", "area"],
         2: ["nearest", "bilinear", "bicubic", "nearest-exact", "area"],
         3: ["nearest", "trilinear", "nearest-exact", "area"]}


@st.composite
def upsamples(draw):
    rank = draw(st.integers(1, 3))
    sizes = tuple(draw(st.integers(1, 6)) for _ in range(rank))
    mode = draw(st.sampled_from(MODES[rank]))
    how = draw(st.sampled_from(["scale", "size", "scales"]))
    if how == "scale":
        arg, kw = draw(st.sampled_from([2, 3, 1.5, 2.5])), None
        kw = {"scale_factor": float(arg)}
        text = f"{arg}"
    elif how == "scales":
        scales = tuple(draw(st.sampled_from([1, 2, 3])) for _ in range(rank))
        kw = {"scale_factor": tuple(float(s) for s in scales)}
        text = "(" + ", ".join(map(str, scales)) + ("," if rank == 1 else "") + ")"
    else:
        size = tuple(draw(st.integers(1, 9)) for _ in range(rank))
        kw = {"size": size}
        text = "size=" + ("(" + ", ".join(map(str, size)) + ("," if rank == 1 else "") + ")")
    align = None
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        align = draw(st.sampled_from([None, True, False]))
    return rank, sizes, mode, text, kw, align


@settings(max_examples=40, deadline=None)
@given(upsamples(), st.integers(1, 3))
def test_upsample_matches_interpolate(case, channels):
    _rank, sizes, mode, text, kw, align = case
    extra = "" if align is None else f", align_corners={'true' if align else 'false'}"
    net = archdsl.parse(f"network t {{ input {channels}x{_dims(sizes)}\n"
                        f"  upsample({text}, mode=\"{mode}\"{extra}) }}")
    x = torch.randn(2, channels, *sizes)
    if align is not None:
        kw = {**kw, "align_corners": align}
    want = F.interpolate(x, mode=mode, **kw)
    assert net.output_shape == tuple(want.shape[1:])
    torch.testing.assert_close(net.to_torch()(x), want)


def test_upsample_argument_errors():
    assert _codes('network t { input 3x8x8\n upsample(2, mode="linear") }') == ["E0302"]
    assert _codes("network t { input 3x8x8\n upsample(2, size=4x4) }") == ["E0210"]
    assert _codes("network t { input 3x8x8\n upsample }") == ["E0210"]
    assert _codes('network t { input 3x8x8\n upsample(2, align_corners=true) }') == ["E0210"]
    assert _codes("network t { input 3x8x8\n upsample(0.1) }") == ["E0301"]


SEG = """
network seg(classes = 3) {
  input 3x32x32
  x0 = { conv(8, 3x3, pad=1); relu }
  x1 = { maxpool(2x2); conv(16, 3x3, pad=1); relu }
  u = { upsample(like=x0, mode="bilinear"); conv(8, 3x3, pad=1) }
  concat(u, x0)
  conv(classes, 1x1)
  upsample(like=in, mode="bilinear", align_corners=false)
}
"""


def _fresh_source_module(net, state):
    ns: dict = {}
    exec(compile(net.to_source(), "generated.py", "exec"), ns)
    cls = next(v for k, v in ns.items() if isinstance(v, type) and k[0].isupper()
               and issubclass(v, torch.nn.Module))
    model = cls()
    model.load_state_dict(state)
    return model.eval()


@pytest.mark.parametrize("size", [32, 48, 37])
def test_size_read_at_run_time(size):
    """A segmentation network resizing to its input's size accepts other input sizes, as the
    torch model it mirrors: the module and its standalone source, at 32 (declared), 48, 37."""
    net = archdsl.parse(SEG)
    model = net.to_torch().eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        y = model(x)
        # the same computation with plain torch calls and the module's weights
        c0 = model.get_submodule("0")(x).relu()
        c1 = model.get_submodule("3")(F.max_pool2d(c0, 2)).relu()
        u = model.get_submodule("6")(F.interpolate(c1, size=c0.shape[2:], mode="bilinear"))
        want = F.interpolate(model.get_submodule("7")(torch.cat([u, c0], 1)),
                             size=x.shape[2:], mode="bilinear", align_corners=False)
        torch.testing.assert_close(y, want)
        torch.testing.assert_close(_fresh_source_module(net, model.state_dict())(x), want)
    assert y.shape == (2, 3, size, size)


# ---------------------------------------------------------------- crop
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 9), st.integers(0, 9)), min_size=1, max_size=3),
       st.booleans())
def test_crop_is_a_centred_slice(dims, like):
    sizes = tuple(a for a, _ in dims)
    want_size = tuple(max(1, a - b) for a, b in dims)
    x = torch.randn(2, 2, *sizes)
    index = [slice(None), slice(None)] + [slice((a - c) // 2, (a - c) // 2 + c)
                                          for a, c in zip(sizes, want_size, strict=True)]
    want = x[tuple(index)]
    if like:
        # the reference tensor: a crop of the input to the size, through an identity first
        body = f"r = crop({_dims(want_size)})\n  {{ in; crop(like=r) }}"
    else:
        body = f"crop({_dims(want_size)})"
    net = archdsl.parse(f"network t {{\n  input 2x{_dims(sizes)}\n  {body}\n}}\n")
    assert net.output_shape == tuple(want.shape[1:])
    torch.testing.assert_close(net.to_torch()(x), want)


def test_crop_larger_than_input():
    assert _codes("network t { input 2x8x8\n crop(9x4) }") == ["E0331"]


# ---------------------------------------------------------------- chunk / split
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 6), st.integers(-2, 1), st.booleans())
def test_chunk_and_split_match_torch(n, k, dim, use_split):
    shape = [3, 4]
    shape.insert(dim % 3, n)  # place n at `dim`
    shape = tuple(shape)
    x = torch.randn(2, *shape)
    tdim = dim + 1 if dim >= 0 else dim
    pieces = torch.split(x, k, tdim) if use_split else torch.chunk(x, k, tdim)
    names = [f"v{i}" for i in range(len(pieces))]
    call = f"{'split' if use_split else 'chunk'}({k}, dim={dim})"
    if len(names) == 1:
        text = f"network t {{ input {_dims(shape)}\n  [v0] = {call}\n  v0 }}"
    else:
        text = (f"network t {{ input {_dims(shape)}\n  [{', '.join(names)}] = {call}\n"
                f"  concat({', '.join(reversed(names))}, dim={dim}) }}")
    net = archdsl.parse(text)
    for name, piece in zip(names, pieces, strict=True):
        assert net.ir.node(net.ir.by_name(_node_of(net, names, name)))["shape"] == \
            tuple(piece.shape[1:])
    want = torch.cat(list(reversed(pieces)), tdim)
    torch.testing.assert_close(net.to_torch()(x), want)


def _node_of(net, names, name) -> str:
    kind = next(d["op"] for _, d in net.ir.layers())
    i = names.index(name)
    return kind if i == 0 else f"{kind}_{i}"


def test_split_sizes_and_piece_counts():
    assert _codes("network t { input 6x4\n [a, _b] = split((2, 3))\n a }") == ["E0332"]
    assert _codes("network t { input 6x4\n [a, _b, _c, _d] = chunk(4)\n a }") == ["E0332"]
    assert _codes("network t { input 6x4\n chunk(2) }") == ["E0332"]
    assert _codes("network t { input 6x4\n [a, _b] = relu\n a }") == ["E0332"]
    net = archdsl.parse("network t { input 6x4\n [a, b] = split((2, 4))\n add(b, b) }")
    assert net.output_shape == (4, 4)


# ---------------------------------------------------------------- several outputs
TWO = """
network twohead(classes = 5) {
  input 3x16x16
  x = { conv(8, 3x3, pad=1); relu }
  aux = { x; avgpool(global=true); flatten; aux_fc: linear(classes) }
  main = { x; conv(16, 3x3, stride=2, pad=1); relu; avgpool(global=true); flatten
           fc: linear(classes) }
  return main, aux
}
"""


def test_several_outputs_are_a_tuple_everywhere(tmp_path):
    net = archdsl.parse(TWO)
    assert net.outputs == {"main": (5,), "aux": (5,)}
    model = net.to_torch().eval()
    x = torch.randn(3, 3, 16, 16)
    main, aux = model(x)
    feats = submodule(model, "1")(model.get_submodule("0")(x))
    torch.testing.assert_close(aux, model.aux_fc(F.adaptive_avg_pool2d(feats, 1).flatten(1)))
    assert main.shape == (3, 5)
    got = _fresh_source_module(net, model.state_dict())(x)
    assert isinstance(got, tuple) and len(got) == 2
    torch.testing.assert_close(got[0], main)
    torch.testing.assert_close(got[1], aux)
    assert "<-- output main" in net.summary() and "<-- output aux" in net.summary()
    assert net.to_json()["outputs"] == {"main": [5], "aux": [5]}
    dot = net.to_dot()
    assert "output main" in dot and "output aux" in dot


def test_several_outputs_onnx(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    net = archdsl.parse(TWO)
    torch.manual_seed(0)
    model = net.to_torch()
    path = tmp_path / "two.onnx"
    net.to_onnx(path, model=model)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["main", "aux"]
    x = torch.randn(4, 3, 16, 16)
    got = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        want = model.eval()(x)
    for g, w in zip(got, want, strict=True):
        assert abs(torch.from_numpy(g) - w).max() <= 1e-5


def test_return_errors():
    assert _codes("block b { relu\n return in }\nnetwork t { input 3\n b }") == ["E0230"]
    assert _codes("network t { input 3\n a = relu\n return a, nope }") == ["E0207"]
    assert _codes("network t { input 3\n a = relu\n return a, a }") == ["E0209"]


def test_segmentation_like_onnx_runs(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    net = archdsl.parse(SEG)
    torch.manual_seed(1)
    model = net.to_torch()
    path = tmp_path / "seg.onnx"
    net.to_onnx(path, model=model)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = torch.randn(2, 3, 32, 32)
    (got,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        want = model.eval()(x)
    assert abs(torch.from_numpy(got) - want).max() <= 1e-5


# ---------------------------------------------------------------- custom kinds
@pytest.fixture
def blend():
    """A user-defined merge with two inputs and an argument of its own: a*w + b*(1-w)."""
    from archdsl.argspec import FLOAT, ArgSpec
    from archdsl.backends.torch.lowering import LOWERINGS, Lowering

    def lower(a, ins, call):
        import operator

        left = call(operator.mul, (ins[0], a["w"]))
        right = call(operator.mul, (ins[1], 1 - a["w"]))
        return call(operator.add, (left, right))

    archdsl.register_op(ops.OpSpec(
        kind="blend", family="merge", arity=(2, 2),
        args=(ArgSpec("w", FLOAT, 0.5, positional=True),),
        shape=lambda args, ins: ins[0]))
    from archdsl.backends.torch import register_lowering

    register_lowering("blend", Lowering(function=lower))
    yield
    ops.unregister("blend")
    LOWERINGS.pop("blend", None)


def test_custom_two_input_kind(blend):
    net = archdsl.parse("network t {\n  input 3x4x4\n  a = relu\n  b = { in; tanh }\n"
                        "  blend(a, b, 0.25)\n}\n")
    x = torch.randn(2, 3, 4, 4)
    torch.testing.assert_close(net.to_torch()(x), x.relu() * 0.25 + x.tanh() * 0.75)
    assert "blend" in net.summary()


def test_custom_merge_of_any_family_and_mul_name():
    """The issue's two failures: a custom kind named like a built-in-to-be, and one of another
    family, both with two inputs."""
    from archdsl.backends.torch import register_lowering
    from archdsl.backends.torch.lowering import LOWERINGS, Lowering

    archdsl.register_op(ops.OpSpec(kind="mymul", family="merge", arity=(2, 2)))
    archdsl.register_op(ops.OpSpec(kind="pairsum", family="conv", arity=(2, 2)))
    try:
        register_lowering("mymul", Lowering(function=lambda a, ins, call: call(
            torch.mul, tuple(ins))))
        register_lowering("pairsum", Lowering(function=lambda a, ins, call: call(
            torch.add, tuple(ins))))
        net = archdsl.parse("network t {\n  input 3x4x4\n  a = relu\n  b = mymul(a, in)\n"
                            "  pairsum(a, b)\n}\n")
        x = torch.randn(2, 3, 4, 4)
        torch.testing.assert_close(net.to_torch()(x), x.relu() + x.relu() * x)
    finally:
        for k in ("mymul", "pairsum"):
            ops.unregister(k)
            LOWERINGS.pop(k, None)


def test_macs_of_merges_match_flop_counter():
    """Element-wise kinds count no MACs, as torch's flop counter counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    net = archdsl.parse("network t {\n  input 3x8x8\n  s = avgpool(global=true)\n  mul(in, s)\n"
                        "  upsample(2, mode=\"bilinear\")\n  [a, b] = chunk(2, dim=1)\n"
                        "  crop(like=b)\n}\n")
    model = net.to_torch()
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, 8, 8))
    assert counter.get_total_flops() == 2 * net.macs == 0
    assert net.output_shape == (3, 8, 16)
