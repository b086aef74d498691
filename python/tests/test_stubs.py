"""The wheel ships type stubs that name every class, method and property
of the native module (what IDEs complete), and py.typed."""

import ast
import pathlib

import icefloe
import icefloe._icefloe as native


def stub_tree():
    path = pathlib.Path(icefloe.__file__).with_name("_icefloe.pyi")
    assert path.exists(), "the installed package has no _icefloe.pyi"
    return ast.parse(path.read_text())


def test_py_typed_ships():
    assert pathlib.Path(icefloe.__file__).with_name("py.typed").exists()


def test_the_stubs_name_every_native_class_and_member():
    tree = stub_tree()
    stubbed = {}
    functions = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            stubbed[node.name] = {
                n.name if isinstance(n, ast.FunctionDef) else n.target.id
                for n in node.body if isinstance(n, (ast.FunctionDef, ast.AnnAssign))
            }
        elif isinstance(node, ast.FunctionDef):
            functions.add(node.name)
    missing = []
    for name in dir(native):
        if name.startswith("__"):
            continue
        obj = getattr(native, name)
        if isinstance(obj, type):
            if name not in stubbed:
                missing.append(name)
                continue
            if issubclass(obj, BaseException):
                continue
            for member in vars(obj):
                if member.startswith("_"):
                    continue
                if member not in stubbed[name]:
                    missing.append("%s.%s" % (name, member))
        elif callable(obj) and name not in functions:
            missing.append(name)
    assert not missing, "not in _icefloe.pyi: %s" % ", ".join(missing)
