"""Tests for grader.release: exact stub text, marker errors, and the release/diff round trip."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.release.stubs import ReleaseError, diff_release, release, strip_solutions


def src(text: str) -> str:
    """Dedent a triple-quoted fixture so the expected text can be written inline."""
    return textwrap.dedent(text).lstrip("\n")


SIGMOID = src(
    '''
    """Activation functions."""
    import math


    class Sigmoid:
        """Logistic function."""

        def forward(self, x: float) -> float:
            """Return 1 / (1 + exp(-x))."""
            ### BEGIN SOLUTION
            z = math.exp(-x)
            return 1.0 / (1.0 + z)
            ### END SOLUTION
    '''
)

SIGMOID_STUB = src(
    '''
    """Activation functions."""
    import math


    class Sigmoid:
        """Logistic function."""

        def forward(self, x: float) -> float:
            """Return 1 / (1 + exp(-x))."""
            raise NotImplementedError("Sigmoid.forward is not implemented yet: write your code here")
    '''
)


def test_function_body_is_replaced_by_the_raise_line_at_marker_indentation() -> None:
    assert strip_solutions(SIGMOID) == SIGMOID_STUB


def test_signature_docstring_and_comments_are_kept() -> None:
    source = src(
        '''
        def relu(x: float, *, leak: float = 0.0) -> float:  # keep this comment
            """Rectified linear unit.

            Args:
                x: input.
            """
            # hint: compare with zero
            ### BEGIN SOLUTION
            return x if x > 0 else leak * x
            ### END SOLUTION
        '''
    )
    expected = src(
        '''
        def relu(x: float, *, leak: float = 0.0) -> float:  # keep this comment
            """Rectified linear unit.

            Args:
                x: input.
            """
            # hint: compare with zero
            raise NotImplementedError("relu is not implemented yet: write your code here")
        '''
    )
    assert strip_solutions(source) == expected


def test_two_blocks_in_one_file_get_their_own_qualnames() -> None:
    source = src(
        """
        def outer():
            def inner():
                ### BEGIN SOLUTION
                return 1
                ### END SOLUTION
            return inner


        class Net:
            def backward(self, grad):
                total = 0
                ### BEGIN SOLUTION
                total += grad
                ### END SOLUTION
                return total
        """
    )
    expected = src(
        """
        def outer():
            def inner():
                raise NotImplementedError("outer.<locals>.inner is not implemented yet: write your code here")
            return inner


        class Net:
            def backward(self, grad):
                total = 0
                raise NotImplementedError("Net.backward is not implemented yet: write your code here")
                return total
        """
    )
    assert strip_solutions(source) == expected


def test_block_at_module_level_uses_the_module_level_text() -> None:
    source = src(
        """
        import math

        ### BEGIN SOLUTION
        TABLE = [math.sqrt(i) for i in range(10)]
        ### END SOLUTION
        """
    )
    expected = src(
        """
        import math

        raise NotImplementedError("this part is not implemented yet: write your code here")
        """
    )
    assert strip_solutions(source) == expected


def test_block_after_the_last_statement_still_belongs_to_the_function() -> None:
    source = src(
        '''
        def f():
            """Only a docstring before the block."""
            ### BEGIN SOLUTION
            ### END SOLUTION
        '''
    )
    assert strip_solutions(source).splitlines()[-1] == (
        '    raise NotImplementedError("f is not implemented yet: write your code here")'
    )


def test_markers_inside_strings_are_not_blocks_and_files_without_blocks_are_unchanged() -> None:
    source = src(
        '''
        """Write your code between
        ### BEGIN SOLUTION
        and
        ### END SOLUTION
        """
        X = 1
        '''
    )
    assert strip_solutions(source) == source


def test_crlf_line_endings_are_preserved_outside_blocks() -> None:
    source = "def f():\r\n    ### BEGIN SOLUTION\r\n    return 1\r\n    ### END SOLUTION\r\n# end\r\n"
    expected = 'def f():\r\n    raise NotImplementedError("f is not implemented yet: write your code here")\r\n# end\r\n'
    assert strip_solutions(source) == expected


@pytest.mark.parametrize(
    ("source", "lineno", "fragment"),
    [
        pytest.param("def f():\n    ### BEGIN SOLUTION\n    return 1\n", 2, "never closed", id="unmatched-begin"),
        pytest.param("def f():\n    return 1\n    ### END SOLUTION\n", 3, "without", id="end-without-begin"),
        pytest.param(
            "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n",
            3,
            "nested",
            id="nested-begin",
        ),
        pytest.param(
            "def f():\n    ### BEGIN SOLUTION\n    return 1\n### END SOLUTION\n", 4, "indented", id="indentation"
        ),
        pytest.param(
            "x = (1 +\n     ### BEGIN SOLUTION\n     2\n     ### END SOLUTION\n)\n", 2, "compile", id="stub-no-compile"
        ),
        pytest.param("def f(:\n    pass\n", 1, "parse", id="solution-no-parse"),
    ],
)
def test_malformed_input_raises_release_error_naming_file_and_line(source: str, lineno: int, fragment: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        strip_solutions(source, "solutions/act.py")
    message = str(caught.value)
    assert message.startswith(f"solutions/act.py:{lineno}: ")
    assert fragment in message
    assert (caught.value.filename, caught.value.lineno) == ("solutions/act.py", lineno)


def test_stub_compiles_and_the_stubbed_method_raises_with_its_qualname() -> None:
    namespace: dict[str, object] = {}
    exec(compile(strip_solutions(SIGMOID, "act.py"), "act.py", "exec"), namespace)
    sigmoid = namespace["Sigmoid"]()  # type: ignore[operator]
    with pytest.raises(NotImplementedError, match=r"^Sigmoid\.forward is not implemented yet"):
        sigmoid.forward(0.0)


def make_tree(root: Path, files: dict[str, bytes | str]) -> None:
    """Create ``files`` (relative path -> content) under ``root``."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")


def test_release_writes_stubs_copies_other_files_and_deletes_orphans(tmp_path: Path) -> None:
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    make_tree(
        solutions,
        {
            "act.py": SIGMOID.replace("\n", "\r\n"),
            "pkg/__init__.py": "",
            "pkg/README.md": "# Read me\r\n",
            "pkg/data.bin": b"\x00\xff\r\n",
            "__pycache__/act.cpython-311.pyc": b"junk",
            "pkg/__pycache__/x.py": "stale = True\n",
        },
    )
    make_tree(exercises, {"old.py": "gone\n", "pkg/old.py": "gone\n", "notes.txt": "keep me\n"})

    written = release(solutions, exercises)

    assert written == sorted(
        [exercises / "act.py", exercises / "pkg/__init__.py", exercises / "pkg/README.md", exercises / "pkg/data.bin"]
    )
    assert (exercises / "act.py").read_bytes() == SIGMOID_STUB.encode("utf-8")  # "\n" endings, not "\r\n"
    assert (exercises / "pkg/__init__.py").read_bytes() == b""
    assert (exercises / "pkg/README.md").read_bytes() == b"# Read me\r\n"
    assert (exercises / "pkg/data.bin").read_bytes() == b"\x00\xff\r\n"
    assert not (exercises / "old.py").exists()
    assert not (exercises / "pkg/old.py").exists()
    assert not (exercises / "__pycache__").exists()
    assert not (exercises / "pkg/__pycache__").exists()
    assert (exercises / "notes.txt").read_text(encoding="utf-8") == "keep me\n"
    assert diff_release(solutions, exercises) == []


def test_release_writes_nothing_when_a_solution_is_malformed(tmp_path: Path) -> None:
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    make_tree(solutions, {"a.py": "X = 1\n", "b.py": "### BEGIN SOLUTION\nY = 2\n"})
    make_tree(exercises, {"old.py": "kept\n"})
    with pytest.raises(ReleaseError, match=r"b\.py:1: "):
        release(solutions, exercises)
    assert sorted(p.name for p in exercises.iterdir()) == ["old.py"]


def test_release_refuses_a_missing_solutions_folder(tmp_path: Path) -> None:
    make_tree(tmp_path / "exercises", {"a.py": "X = 1\n"})
    with pytest.raises(ReleaseError, match="does not exist"):
        release(tmp_path / "nope", tmp_path / "exercises")
    assert (tmp_path / "exercises/a.py").exists()


def test_diff_release_reports_changed_missing_and_extra_files(tmp_path: Path) -> None:
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    make_tree(solutions, {"act.py": SIGMOID, "sub/loss.py": "def mse():\n    return 0\n", "sub/d.csv": "a,b\n"})
    release(solutions, exercises)
    assert diff_release(solutions, exercises) == []

    (exercises / "act.py").write_text(SIGMOID, encoding="utf-8")  # solution leaked into the exercise
    (exercises / "sub/d.csv").unlink()
    (exercises / "sub/extra.py").write_text("X = 1\n", encoding="utf-8")
    (exercises / "sub/notes.md").write_text("not a .py file: release leaves it alone\n", encoding="utf-8")

    assert diff_release(solutions, exercises) == ["act.py", "sub/d.csv", "sub/extra.py"]
