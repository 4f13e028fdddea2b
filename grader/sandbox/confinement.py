"""Confinement of the sandboxed child, all or nothing: every step either completes or the child exits
before any learner code is imported.

Loaded by file path from the child (grader/sandbox/child.py), like the protocol, so it imports only the standard
library. The tier is chosen by what the first step achieves, and once a step of a tier has changed the
process, any later failure raises :class:`SetupError` instead of falling back to a weaker tier:

- **C** (root): new mount, network and IPC namespaces; secret folders and banned packages masked; the
  whole file system read-only except private scratch tmpfs mounts; then a drop to a unique uid.
- **B** (unprivileged user namespaces): the same masks, read-only root and scratch in a user namespace,
  locked by a second, less privileged one; processes capped in that namespace; a PID namespace.
- **A** (neither): rlimits and the guards below only.

Two guards apply in every tier, last, just before learner code: a Landlock domain where the kernel has
it (writes only in the scratch folders; reads only of the system, the Python installation minus the
banned packages, and the submission; no TCP; signals and abstract sockets only inside the domain), and
a seccomp filter (no namespaces, mounts, ptrace, SysV IPC, keyrings, leaving the process group, or
signals to every process at once). docs/security.md says what each tier promises.

Why one module: the child loads this file by path before any learner code, importing only the
standard library; each more file would be one more path-loaded module on the trust boundary.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import struct
import sys
from pathlib import Path

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x02000000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
CLONE_NAMESPACES = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 1, 2, 4, 0x4000, 0x40000
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
UID_BASE = 100_000
"""Tier C runs each child as its own user, UID_BASE + its pid: unique among live processes, so children
graded side by side cannot signal or trace each other, RLIMIT_NPROC counts exactly this child's
processes, and the parent can kill every process the child left behind (setsid'd grandchildren too)."""
MAX_PROCESSES = 16
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
SCRATCH_MB = 64
FAIL_AT_ENV = "GRADER_SANDBOX_FAIL_AT"
"""Tests only: the name of a setup step to fail (set by the trusted parent in the child's config)."""


class SetupError(Exception):
    """A confinement step failed after the tier was chosen: the child must not run learner code."""


# --------------------------------------------------------------------------- system calls


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    libc.syscall.restype = ctypes.c_long
    return libc


LIBC = _libc()
ARCH = platform.machine()
_SYSCALLS = {  # (x86_64, aarch64) numbers of the system calls the guards name
    "landlock_create_ruleset": (444, 444), "landlock_add_rule": (445, 445), "landlock_restrict_self": (446, 446),
    "mount_setattr": (442, 442), "kill": (62, 129), "tkill": (200, 130), "tgkill": (234, 131),
    "setsid": (112, 157), "setpgid": (109, 154), "unshare": (272, 97), "setns": (308, 268), "mount": (165, 40),
    "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51), "ptrace": (101, 117),
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271), "shmget": (29, 194), "semget": (64, 190),
    "msgget": (68, 186), "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218), "bpf": (321, 280),
    "perf_event_open": (298, 241), "userfaultfd": (323, 282), "pidfd_open": (434, 434),
    "pidfd_send_signal": (424, 424), "pidfd_getfd": (438, 438), "kexec_load": (246, 104),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106), "open_tree": (428, 428),
    "move_mount": (429, 429), "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432),
    "fspick": (433, 433), "clone": (56, 220), "clone3": (435, 435),
}
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}


def _nr(name: str) -> int | None:
    index = {"x86_64": 0, "aarch64": 1}.get(ARCH)
    return None if index is None else _SYSCALLS[name][index]


def _check(ret: int, what: str) -> None:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _reason(e: OSError) -> str:
    """The step and the kernel's word for it ("read-only root: Operation not permitted")."""
    return e.strerror if e.strerror and ":" in e.strerror else str(e)


def _step(name: str) -> None:
    """Test hook: fail the named step as the kernel would (see FAIL_AT_ENV)."""
    fail_at = os.environ.get(FAIL_AT_ENV)
    if fail_at and name.startswith(fail_at):
        raise OSError(errno.EPERM, f"{name}: injected failure")


def limit(resource_id: int, value: int) -> None:
    soft, hard = resource.getrlimit(resource_id)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(resource_id, (value, value))


# --------------------------------------------------------------------------- mounts


def _mount(source: bytes | None, target: str, fstype: bytes | None, flags: int, data: bytes | None, what: str) -> None:
    _step(what)
    _check(LIBC.mount(source, target.encode(), fstype, flags, data), what)


def _mask(paths: list[str]) -> None:
    """An empty, unreadable tmpfs over each secret folder (solutions, cache, banned packages)."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None, "make mounts private")
    for p in paths:
        if os.path.isdir(p):
            _mount(b"tmpfs", p, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k,mode=000", f"mask {p}")
        elif os.path.exists(p):  # a single file: /dev/null over it
            _mount(b"/dev/null", p, None, 0x1000, None, f"mask {p}")  # MS_BIND


def _read_only_root() -> None:
    """Every mount read-only, recursively (mount_setattr, Linux 5.12): nothing the grading user owns can
    be written, not the classmates' results, not the grader's own code; scratch mounts come after."""
    _step("read-only root")
    attr = struct.pack("QQQQ", 1, 0, 0, 0)  # MOUNT_ATTR_RDONLY
    buf = ctypes.create_string_buffer(attr, len(attr))
    _check(LIBC.syscall(_nr("mount_setattr"), -100, b"/", 0x8000, buf, len(attr)), "read-only root")  # AT_FDCWD, AT_RECURSIVE


def _private_scratch(workdir: str) -> None:
    """Small private tmpfs mounts over the world-writable folders (a learner cannot fill the disk or leave
    files for anyone), carrying the working folder's files over when it lives in one of them. The
    submission's size was capped before it was copied, so it fits."""
    saved = {}
    for path in Path(workdir).rglob("*"):
        if path.is_file():
            saved[path] = path.read_bytes()
    for d in scratch_dirs(workdir):
        _mount(b"tmpfs", d, b"tmpfs", MS_NOSUID | MS_NODEV, f"size={SCRATCH_MB}m,mode=1777".encode(), f"scratch {d}")
    _step("copy the submission")
    os.makedirs(workdir, mode=0o777, exist_ok=True)
    for path, data in saved.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def scratch_dirs(workdir: str) -> list[str]:
    """The folders a confined child may write: the world-writable ones, and the submission's own folder
    where it lies elsewhere (a TMPDIR outside them)."""
    dirs = [d for d in SCRATCH if os.path.isdir(d) and not os.path.islink(d)]
    real = os.path.realpath(workdir)
    if not any(real == d or real.startswith(d + "/") for d in map(os.path.realpath, dirs)):
        dirs.append(workdir)
    return dirs


# --------------------------------------------------------------------------- tiers


def confine(hide: list[str], workdir: str) -> tuple[str, bool]:
    """Hide the secret folders, make the file system read-only but for scratch, cut the network and
    System V IPC; return the tier reached and whether the next process forked starts a new PID namespace.

    Raises:
        SetupError: a step failed after the tier was chosen (the caller must not run learner code).
    """
    if not sys.platform.startswith("linux"):
        return "A", False  # no namespaces to use (macOS): the rlimits and the process session only
    if os.geteuid() == 0:
        try:
            _step("unshare")
            _check(LIBC.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
        except OSError:
            _drop_root(UID_BASE + os.getpid())  # root without namespaces (a container): never root for learners
            return "A", False
        try:
            _mask(hide)
            _read_only_root()
            _private_scratch(workdir)
            os.chmod(workdir, 0o777)
            _drop_root(UID_BASE + os.getpid())
        except OSError as e:
            raise SetupError(_reason(e)) from None
        return "C", False
    uid, gid = os.getuid(), os.getgid()
    try:
        _step("unshare")
        _check(LIBC.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare")
    except OSError:
        return "A", False  # nothing changed yet: tier A is honest here
    try:
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        _mask(hide)
        _read_only_root()
        _private_scratch(workdir)
        # Mounts made in a namespace we own could be unmounted again; inherited into a new, less
        # privileged user namespace they are locked.
        _step("lock masks")
        _check(LIBC.unshare(CLONE_NEWUSER | CLONE_NEWNS), "lock masks")
        _step("cap processes")
        limit(resource.RLIMIT_NPROC, MAX_PROCESSES)  # counted per user namespace: a fork bomb stops here
    except OSError as e:
        raise SetupError(_reason(e)) from None
    return "B", LIBC.unshare(CLONE_NEWPID) == 0


def _drop_root(uid: int) -> None:
    _step("drop root")
    limit(resource.RLIMIT_NPROC, MAX_PROCESSES)  # counted per user: this child's own processes
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError(errno.EPERM, "drop root: the uid did not change")


# --------------------------------------------------------------------------- guards (every tier)


def guard(workdir: str, hide: list[str], banned_dirs: list[str], tier: str) -> list[str]:
    """Landlock (where the kernel has it) and seccomp (on x86_64 and aarch64), the last steps before
    learner code; return the names of the guards in force.

    Raises:
        SetupError: a guard the kernel offers could not be put in place.
    """
    active: list[str] = []
    if not sys.platform.startswith("linux"):
        return active
    try:
        _step("no new privileges")
        _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no new privileges")
        abi = _landlock_abi()
        if abi > 0:
            _landlock(abi, workdir, [*hide, *banned_dirs], tier)
            active.append(f"landlock v{abi}")
        if _nr("kill") is not None:
            _seccomp()
            active.append("seccomp")
    except OSError as e:
        raise SetupError(_reason(e)) from None
    return active


def _landlock_abi() -> int:
    if _nr("landlock_create_ruleset") is None or os.environ.get(FAIL_AT_ENV) == "no landlock":
        return 0
    abi = LIBC.syscall(_nr("landlock_create_ruleset"), None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    return max(0, int(abi))


_FS_READ = 1 | 4 | 8  # EXECUTE, READ_FILE, READ_DIR


def _fs_all(abi: int) -> int:
    bits = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
    if abi >= 2:
        bits |= 1 << 13  # REFER
    if abi >= 3:
        bits |= 1 << 14  # TRUNCATE
    if abi >= 5:
        bits |= 1 << 15  # IOCTL_DEV
    return bits


def _landlock(abi: int, workdir: str, excluded: list[str], tier: str) -> None:
    """Writes only in the scratch folders and the submission's; reads of the system and the Python
    installation minus the excluded trees (secret folders, banned packages); no TCP; in ABI 6, signals
    and abstract Unix sockets only within the sandbox."""
    _step("landlock")
    handled = _fs_all(abi)
    fields = [handled]
    if abi >= 4:
        fields.append(3)  # BIND_TCP | CONNECT_TCP
    if abi >= 6:
        fields.append(3)  # SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
    attr = struct.pack(f"{len(fields)}Q", *fields)
    ruleset = LIBC.syscall(_nr("landlock_create_ruleset"), ctypes.create_string_buffer(attr, len(attr)), len(attr), 0)
    _check(ruleset, "landlock ruleset")
    try:
        writable = scratch_dirs(workdir) if tier in ("B", "C") else [workdir]
        for path in writable:
            _allow(ruleset, path, handled)
        for dev in ("/dev/null", "/dev/zero", "/dev/full"):
            _allow(ruleset, dev, 1 << 1 | 1 << 2 | (1 << 14 if abi >= 3 else 0))  # WRITE_FILE, READ_FILE
        for root in readable_roots():
            for path in _tree_minus(root, [os.path.realpath(p) for p in excluded]):
                _allow(ruleset, path, _FS_READ)
        _step("landlock restrict")
        _check(LIBC.syscall(_nr("landlock_restrict_self"), ruleset, 0), "landlock restrict")
    finally:
        os.close(ruleset)


def readable_roots() -> list[str]:
    """What learner code may read: system libraries and configuration, the Python installation (its
    site-packages minus the banned packages). Not /proc (the grader's command line), not /home, /root
    or /tmp (other users' and the grader's files)."""
    roots = ["/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc", "/dev", "/sys"]
    roots += [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    roots += [p for p in sys.path if ("site-packages" in p or "dist-packages" in p) and os.path.isdir(p)]
    seen, out = set(), []
    for r in roots:
        real = os.path.realpath(r)
        if os.path.exists(real) and real not in seen:
            seen.add(real)
            out.append(real)
    return out


def _tree_minus(root: str, excluded: list[str]) -> list[str]:
    """Paths whose trees cover ``root``'s tree except every excluded tree (Landlock only allows)."""
    if any(root == e for e in excluded):
        return []
    inside = [e for e in excluded if e.startswith(root.rstrip("/") + "/")]
    if not inside:
        return [root]
    out = []
    try:
        entries = os.listdir(root)
    except OSError:
        return []
    for name in entries:
        path = os.path.join(root, name)
        if os.path.islink(path):
            continue  # its target is allowed or not by its own tree
        out += _tree_minus(path, excluded)  # a file: itself, unless it is excluded (a course's references.py)
    return out


def _allow(ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # gone or unreadable: nothing to allow
    try:
        if not os.path.isdir(path):
            access &= 1 | 1 << 1 | 1 << 2 | 1 << 14 | 1 << 15  # rights that apply to a file
        rule = struct.pack("=Qi", access, fd)
        _check(LIBC.syscall(_nr("landlock_add_rule"), ruleset, 1, ctypes.create_string_buffer(rule, len(rule)), 0),
               f"landlock rule for {path}")
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- seccomp


DENIED = ("unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "ptrace", "process_vm_readv",
          "process_vm_writev", "shmget", "semget", "msgget", "keyctl", "add_key", "request_key", "bpf",
          "perf_event_open", "userfaultfd", "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "kexec_load",
          "init_module", "finit_module", "delete_module", "open_tree", "move_mount", "fsopen", "fsconfig",
          "fsmount", "fspick", "mount_setattr", "setsid", "setpgid", "landlock_create_ruleset")
"""Refused with EPERM: leaving the sandbox's namespaces or process group, reading or writing other
processes, System V IPC (it outlives the process), keyrings, kernel modules."""

_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000


def refuse(names: tuple[str, ...]) -> None:
    """Refuse only these system calls (EPERM) in this process and what it starts: how the tests make a
    machine where tier A is all there is (``unshare`` refused, as some container runtimes do)."""
    _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no new privileges")
    _seccomp(names, sandbox=False)


def _seccomp(denied: tuple[str, ...] = DENIED, sandbox: bool = True) -> None:
    """The filter: refuse ``denied``; for the sandbox also clone with namespace flags (clone3 says ENOSYS
    so libc uses clone), and kill/tkill/tgkill aimed at every process (-1) or at another process group
    than the child's."""
    _step("seccomp")
    pgid = os.getpgrp()
    prog: list[tuple[int, int, int, int]] = []
    deny, nosys, allow = "deny", "nosys", "allow"

    def jump(code: int, k: int, true: str | int, false: str | int = 0) -> None:
        prog.append((code, true, false, k))  # type: ignore[arg-type]

    prog.append((_LD_W_ABS, 0, 0, 4))  # arch
    jump(_JEQ, _AUDIT_ARCH[ARCH], 0, deny)
    prog.append((_LD_W_ABS, 0, 0, 0))  # syscall number
    if ARCH == "x86_64":
        jump(_JGE, 0x40000000, deny)  # the x32 ABI
    for name in denied:
        jump(_JEQ, _nr(name), deny)  # type: ignore[arg-type]
    if sandbox:
        jump(_JEQ, _nr("clone3"), nosys)  # type: ignore[arg-type]
        jump(_JEQ, _nr("clone"), "clone")  # type: ignore[arg-type]
        for name in ("kill", "tkill", "tgkill"):
            jump(_JEQ, _nr(name), "signal")  # type: ignore[arg-type]
    prog.append((_RET, 0, 0, _ALLOW))
    labels = {"clone": len(prog)}
    prog.append((_LD_W_ABS, 0, 0, 16))  # args[0], low word: the flags
    jump(_JSET, CLONE_NAMESPACES, deny, allow)
    labels["signal"] = len(prog)
    prog.append((_LD_W_ABS, 0, 0, 16))  # args[0], low word: the pid
    jump(_JEQ, (-pgid) & 0xFFFFFFFF, allow)  # the child's own process group
    jump(_JGE, 0x80000000, deny, allow)  # -1 (everyone) and other process groups
    labels["allow"] = len(prog)
    prog.append((_RET, 0, 0, _ALLOW))
    labels["deny"] = len(prog)
    prog.append((_RET, 0, 0, _ERRNO | errno.EPERM))
    labels["nosys"] = len(prog)
    prog.append((_RET, 0, 0, _ERRNO | errno.ENOSYS))
    code = b""
    for i, (op, jt, jf, k) in enumerate(prog):
        jt = labels[jt] - i - 1 if isinstance(jt, str) else jt
        jf = labels[jf] - i - 1 if isinstance(jf, str) else jf
        if not (0 <= jt < 256 and 0 <= jf < 256):
            raise OSError(errno.E2BIG, "seccomp: jump too long")
        code += struct.pack("=HBBI", op, jt, jf, k)
    filt = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(prog), ctypes.cast(filt, ctypes.c_void_p))
    _check(LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
