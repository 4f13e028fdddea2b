"""The ``training`` check: a whole network's training, step by step against a torch twin.

The network is built from the learner's own classes (their Affine, ReLU, loss, optimizer...) with the
parameters and batch order of the exercise's seed (grader.kinds.networks); the torch twin trained from
the same start on the same batches (grader.references.networks) is in the reference store. While the
learner's code trains, the child records every optimizer update (the gradients it was given and the
parameters after it) and, where the learner runs the loop, every loss call (the batch's labels and the
loss). Both runs go free: the first step where anything departs is the first mistake (everything before
it agreed), and the message names that step, the layer (position and class) and the quantity, with the
likely cause. A free run is then scored by its final accuracy against the twin's.

Teacher forcing, when a run departs: the training runs again with every step restarted from torch's
parameters after the step before (the child overwrites the parameters in place after each update; the
optimizer's state stays the learner's own), so one early error does not hide the later ones: the message
lists every compared step that departs ("the loss at steps 4, 8, 12"). It only diagnoses: the score is
the free run's, correct code never runs it, and it runs after every case is judged (a forced run that
hangs or kills the child changes no verdict; the forced runs left are then skipped).

It runs with the public seed only. Forcing sends torch's parameters, reference values, into the child,
where the learner's code could read the next step's expected values before computing them; the public
seed's references are the learner's anyway (``grader case`` writes them), a secret seed's never leave the
parent. Under a secret seed the message names the first departure alone (redacted to its quantity by
grader.judge.redact).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ..judge import departures, pictures
from ..judge.compare import compare_arrays
from ..kinds import networks
from ..kinds.networks import NetworkSpec
from ..model.course import CheckSpec, Course, Tolerance
from ..model.results import FAIL, PASS, CaseResult, ExerciseResult
from ..model.values import Value
from ..sandbox.replies import ChildFailure
from . import Context, failed_case, register

SOFT_DEADLINE = 0.8
"""Share of the exercise's time limit after which the child stops a training run and reports the time
per layer (the parent's hard limit would kill it with nothing to say)."""


@register("training")
def run(ctx: Context, spec_: CheckSpec) -> Iterator[CaseResult]:
    ex = ctx.ex
    pending: list[tuple[CaseResult, Callable[[], tuple[str, list[int]]]]] = []
    for index in range(len(ex.cases)):
        ctx.at("case", index)
        spec = networks.spec_of(ex, ctx.hyper("case", index))
        data = networks.data_of(spec, ex, ctx.seed, index)
        seed = networks.learner_seed(spec, ctx.seed, ex, index)
        init, orders = networks.draws(spec, seed, len(data.X))
        soft = SOFT_DEADLINE * (ex.timeout_s or ctx.child.limits.timeout_s)
        plan = networks.plan(ex.target, spec, seed, init, orders, data, soft)
        reply = ctx.run(plan.steps, plan.variables)
        rerun: Rerun | None = None
        if ctx.public:  # teacher forcing sends torch's parameters into the child: public seed only
            def rerun(force: list[np.ndarray], spec: NetworkSpec = spec, seed: int = seed,
                      init: list[np.ndarray] = init, orders: np.ndarray = orders,
                      data: networks.Data = data, soft: float = soft) -> tuple[networks.NetworkPlan, Any]:
                forced = networks.plan(ex.target, spec, seed, init, orders, data, soft, force)
                return forced, ctx.run(forced.steps, forced.variables)
        yield from _judge(ctx, index, spec, data, orders, plan, reply, rerun, pending)
        if spec.driver == "steps":
            yield _modes(ctx, ex.target, f"case {index}")
    # last, once every case is judged: a diagnostic run that hangs or kills the child changes no verdict
    for case, diagnose in pending:
        try:
            summary, steps = diagnose()
        except ChildFailure:
            break
        if summary:
            case.message += "\n  " + summary
            case.details["departing_steps"] = steps


MODE_LAYERS = (("regularization.Dropout", {"p": 0.5}), ("regularization.BatchNorm1d", {}))
"""Layers with a training and an evaluation mode (their ``train`` attribute) that train()/eval() must reach."""


_MODE_CONSEQUENCE = {
    "eval": "; left in training mode, a BatchNorm1d normalizes each evaluation batch by its own statistics "
            "(and updates its running ones) and a Dropout drops units, so accuracies are wrong",
    "train": ""}


def _modes(ctx: Context, target: str, name: str) -> CaseResult:
    """train() and eval() of a Sequential of a Dropout and a BatchNorm1d reach both layers' ``train``."""
    steps: list[dict[str, Any]] = []
    for layer, kwargs in MODE_LAYERS:
        args = ["$gamma", "$beta"] if layer.endswith("BatchNorm1d") else []
        steps.append({"op": "new", "target": layer, "args": args, "kwargs": kwargs})
    model = len(steps)
    steps.append({"op": "new", "target": target, "args": [[{"$obj": k} for k in range(model)]], "kwargs": {}})
    reads = []
    for method in ("eval", "train"):
        steps.append({"op": "call", "obj": model, "method": method, "args": []})
        for k in range(model):
            reads.append((method, f"layer {k} ({MODE_LAYERS[k][0].split('.')[1]})", len(steps)))
            steps.append({"op": "lookup", "obj": k, "path": ["train"]})
    reply = ctx.run(steps, {"gamma": np.ones(3), "beta": np.zeros(3)})
    label = "train() and eval()"
    if reply.failure is not None:
        phase = "constructing Dropout and BatchNorm1d" if reply.failure.step < model else label
        return failed_case(f"{name} · modes", phase, reply.failure)
    for method, layer, at in reads:
        value = reply.values[at]
        want = method == "train"
        got = bool(value.arrays[0]) if value.kind == "scalar" else None
        if got is not want:
            shown = "missing" if value.kind == "missing" else (value.type if got is None else str(got))
            return CaseResult(f"{name} · modes", FAIL,
                              f"{name}: after model.{method}(), {layer} of Sequential([Dropout, BatchNorm1d]) has "
                              f"train {shown}, expected {want}: {method}() must reach every layer that has a mode "
                              f"(Dropout, BatchNorm1d){_MODE_CONSEQUENCE[method]}",
                              {"quantity": f"{layer} after {method}()"})
    return CaseResult(f"{name} · modes", PASS, f"{name}: train() and eval() reach Dropout and BatchNorm1d",
                      {"quantity": label})


# --------------------------------------------------------------------------- judging


def _numbers(value: Value | None) -> np.ndarray | None:
    """A list of numbers (the losses the train op returned, a history's list) as a float array; a 1-D
    numeric array is as good."""
    if value is not None and value.kind == "array" and value.arrays[0].ndim == 1 and value.arrays[0].dtype.kind in "biuf":
        return value.arrays[0].astype(np.float64)
    if value is None or value.kind != "list":
        return None
    try:
        return np.array([float(np.asarray(i.arrays[0]).reshape(())) for i in value.items])
    except (TypeError, ValueError):
        return None


def _judge(ctx: Context, index: int, spec: NetworkSpec, data: networks.Data, orders: np.ndarray,
           plan: networks.NetworkPlan, reply: Any, rerun: Rerun | None = None,
           pending: list[tuple[CaseResult, Callable[[], tuple[str, list[int]]]]] | None = None) -> Iterator[CaseResult]:
    ref = ctx.expected("case", index)
    name = f"case {index}"
    failure = reply.failure
    if failure is not None and failure.step >= plan.slots.get("pick", len(plan.steps)):
        failure = None  # the trained model's forward on the test split feeds figures only
    if failure is not None:  # the learner's code raised (a constructor, a layer, fit itself...)
        yield failed_case(f"{name} · steps", plan.phases.get(failure.step, "call"), failure)
        if spec.driver in ("fit", "recipe"):
            yield failed_case(f"{name} · accuracy", plan.phases.get(failure.step, "call"), failure)
        return
    values = reply.values
    get = _getter(plan, values)
    steps = networks.batches(orders, spec.batch_size)
    if "init" in plan.slots and get("init") is not None:
        bad = _init_mismatch(get("init"), ref, spec)
        if bad:
            yield CaseResult(f"{name} · steps", FAIL, f"{name}: {bad}", {"quantity": "initial parameters"})
            return
    updates = get("updates")
    if updates is None or updates.kind != "loop":
        yield CaseResult(f"{name} · steps", FAIL, f"{name}: no optimizer update was recorded", {"quantity": "updates"})
        return
    targets, mine_losses = _losses(get, updates.count)
    departure = _first_departure(ref, spec, data, steps, updates, targets, mine_losses, ctx.ex.tolerance)
    curve: dict[str, Any] = pictures.curve(ref["loss"], mine_losses)
    accuracies = _numbers(get("history_accuracy"))
    if accuracies is not None and np.all(np.isfinite(accuracies)):  # per epoch, drawn at each epoch's last step
        curve["accuracy"] = {"torch": [float(a) for a in ref["accuracy"]], "yours": accuracies.tolist(),
                             "steps_per_epoch": len(steps) // spec.epochs}
    drawn = {**pictures.hidden(spec, data, ref, get("final_params")), **pictures.confusion(data, get("test_out"))}
    if departure is not None:
        t, quantity, message, suspect = departure
        epoch, batch = divmod(t, len(steps) // spec.epochs)
        head = (f"{name}: training departs from torch's at step {t + 1} of {len(steps)} (epoch {epoch + 1}, "
                f"batch {batch + 1}), in {quantity}")
        case = CaseResult(f"{name} · steps", FAIL, head + "\n  " + message.replace("\n", "\n  "),
                          {"quantity": quantity, "first_step": t + 1, "suspect": suspect, "losses": curve, **drawn})
        if rerun is not None and pending is not None and t + 1 < min(len(steps), spec.compare_steps):
            def diagnose(rerun: Rerun = rerun, tol: Tolerance = ctx.ex.tolerance) -> tuple[str, list[int]]:
                forced = _teacher_forced(rerun, ref, spec, data, steps, tol)
                return (_forced_summary(forced, steps, spec) if forced else ""), [u + 1 for u, _ in forced]
            pending.append((case, diagnose))
        yield case
    else:
        compared = min(len(steps), spec.compare_steps)
        yield CaseResult(f"{name} · steps", PASS, f"{name}: all {len(steps)} steps match torch's (the loss at every "
                         f"step; every gradient and parameter over the first {compared})",
                         {"steps": len(steps), "losses": curve, **drawn})
    if spec.driver in ("fit", "recipe"):
        yield _accuracy(name, spec, ref, get("history_accuracy"), get("test_accuracy"))


Rerun = Callable[[list[np.ndarray]], "tuple[networks.NetworkPlan, Any]"]
"""Runs the case's training again with the parameters forced to the rows given after each update."""


def _teacher_forced(rerun: Rerun, ref: dict[str, np.ndarray], spec: NetworkSpec, data: networks.Data,
                    steps: list[np.ndarray], tol: Tolerance) -> list[tuple[int, str]]:
    """Every compared step that departs when each step starts from torch's parameters after the step
    before (the optimizer's state stays the learner's own): (step index, first departing quantity).
    Empty when the forced run cannot be judged (it raised, or recorded no update)."""
    n = len(spec.param_owner())
    plan, reply = rerun([ref[f"param{j}"] for j in range(n)])
    if reply.failure is not None and reply.failure.step < plan.slots.get("pick", len(plan.steps)):
        return []
    get = _getter(plan, reply.values)
    updates = get("updates")
    if updates is None or updates.kind != "loop":
        return []
    targets, losses = _losses(get, updates.count)
    found = []
    for t in range(min(len(steps), spec.compare_steps)):
        departure = _step_departure(t, ref, spec, data, steps, updates, targets, losses, tol)
        if departure is not None:
            found.append((t, departure[0]))
    return found


def _forced_summary(forced: list[tuple[int, str]], steps: list[np.ndarray], spec: NetworkSpec) -> str:
    """The teacher-forced steps that depart, grouped by quantity: "the loss at steps 4, 8, 12"."""
    compared = min(len(steps), spec.compare_steps)
    groups: dict[str, list[int]] = {}
    for t, quantity in forced:
        groups.setdefault(quantity, []).append(t + 1)
    parts = [f"{quantity} at {_ranges(ts)}" for quantity, ts in list(groups.items())[:4]]
    more = f"; {len(groups) - 4} other quantities" if len(groups) > 4 else ""
    tail = "; every other step agrees" if len(forced) < compared else ""
    return (f"teacher-forced (every step restarted from torch's parameters, your optimizer's state kept): "
            f"{len(forced)} of the {compared} steps compared depart: " + "; ".join(parts) + more + tail)


def _ranges(numbers: list[int], most: int = 8) -> str:
    """[1, 2, 3, 7, 9, 10] as "steps 1-3, 7, 9-10" (at most ``most`` runs, then "...")."""
    runs: list[list[int]] = []
    for k in numbers:
        if runs and k == runs[-1][-1] + 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    shown = [f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs[:most]]
    word = "step" if len(numbers) == 1 else "steps"
    return f"{word} {', '.join(shown)}{', ...' if len(runs) > most else ''}"


def _getter(plan: networks.NetworkPlan, values: list[Value]) -> Callable[[str], Value | None]:
    """The recorded value of a slot of the plan (None where the reply stops short of it)."""
    return lambda key: values[plan.slots[key]] if key in plan.slots and plan.slots[key] < len(values) else None


def _losses(get: Callable[[str], Value | None], count: int) -> tuple[Value | None, np.ndarray]:
    """The batch labels (None where the grader's loop ran the loss) and the loss of every step."""
    losses_value = get("losses")
    if losses_value is not None and losses_value.kind == "loop" and len(losses_value.items) == 2:
        targets, loss_col = losses_value.items
        loss_rows = [departures.column(loss_col, t) for t in range(losses_value.count)]
        return targets, np.array([float(r.reshape(-1)[0]) if r is not None and r.size == 1 else np.nan
                                  for r in loss_rows])
    mine_losses = _numbers(get("returned_losses"))
    return None, (np.full(count, np.nan) if mine_losses is None else mine_losses)


def _init_mismatch(value: Value, ref: dict[str, np.ndarray], spec: NetworkSpec) -> str:
    n = len(spec.param_owner())
    if value.kind != "list" or len(value.items) != n:
        return f"self.params should be a list of {n} arrays, got {value.type}"
    for j in range(n):
        got = departures.column(Value("steps", "", (), (value.items[j],)), 0)
        expected = ref[f"init{j}"]
        if got is None or got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-12, atol=0):
            return (f"the initial {spec.label(j)} is not the one the docstring prescribes (drawn from rng in the "
                    "stated order and scale)")
    return ""


def _first_departure(ref: dict[str, np.ndarray], spec: NetworkSpec, data: networks.Data,
                     steps: list[np.ndarray], updates: Value, targets: Value | None, losses: np.ndarray,
                     tol: Tolerance) -> tuple[int, str, str, str] | None:
    """(step index, quantity, message, the class most likely at fault or "") of the first departure."""
    for t in range(len(steps)):
        found = _step_departure(t, ref, spec, data, steps, updates, targets, losses, tol)
        if found is not None:
            return (t, *found)
    return None


def _step_departure(t: int, ref: dict[str, np.ndarray], spec: NetworkSpec, data: networks.Data,
                    steps: list[np.ndarray], updates: Value, targets: Value | None, losses: np.ndarray,
                    tol: Tolerance) -> tuple[str, str, str] | None:
    """(quantity, message, the class most likely at fault or "") where step t departs from torch's step t,
    else None: the batch's labels, the loss, the gradients from the last layer down (the order backward
    computes them), the parameters after the update."""
    n = len(spec.param_owner())
    compared = min(len(steps), spec.compare_steps)
    idx = steps[t]
    if targets is not None:
        got = departures.column(targets, t)
        want = np.asarray(data.y[idx], dtype=np.float64)
        if got is None or got.shape != want.shape or not np.array_equal(got, want):
            return "the batch's labels", departures.batch_hint(got, data, steps, t, losses, ref, spec), ""
    if t >= len(losses):
        return "the loss", f"no loss at this step: torch made {len(steps)} steps, yours {len(losses)}", ""
    verdict = compare_arrays("loss", np.asarray(ref["loss"][t]), np.asarray(losses[t]), tol, against="torch")
    if not verdict.ok:
        hint = ""
        if t == 0 and targets is not None:
            hint = ("\nhint: the labels are the right batch's, so the initial parameters (drawn as the docstring "
                    "says, in its order?), the forward pass or the loss differ, or the inputs are not the same "
                    "rows as the labels (index X and y with the same idx)")
        elif t == 0:
            hint = ("\nhint: the first loss depends only on the initial parameters, the first batch and the "
                    "forward pass (are the parameters drawn as the docstring says, in its order?)")
        elif t - 1 < compared:
            hint = ("\nhint: everything agreed up to the previous step, the parameters the optimizer updated "
                    "included, so this loss was not computed from them: does the network use the very arrays "
                    "the optimizer updates (params gathered as copies, or rebound)?")
        return "the loss", verdict.message + hint, ""
    if t >= compared:
        return None
    if t >= updates.count:
        return "the optimizer update", (f"no optimizer update at this step (yours made {updates.count}); "
                                       "one update per batch"), ""
    if len(updates.items) != 2 * n:
        return "the optimizer update", (f"update(params, grads) received {len(updates.items) // 2} "
                                       f"parameters, the network has {n}"), ""
    for j in reversed(range(n)):  # backward reaches the last layer first
        mine = departures.column(updates.items[n + j], t)
        message = _compare(f"gradient of {spec.label(j)}", ref[f"grad{j}"][t], mine, tol)
        if message:
            return (f"the gradient of {spec.label(j)}", message + departures.grad_hint(ref, updates, spec, t, j),
                    spec.layers[spec.param_owner()[j][0]].target)
    for j in range(n):
        mine = departures.column(updates.items[j], t)
        message = _compare(f"{spec.label(j)} after the update", ref[f"param{j}"][t], mine, tol)
        if message:
            return (f"{spec.label(j)} after the update", message + departures.step_hint(ref, updates, spec, t, j),
                    spec.optimizer_target)
    return None


def _compare(label: str, expected: np.ndarray, got: np.ndarray | None, tol: Tolerance) -> str:
    if got is None:
        return f"{label} is not a numeric array"
    if got.shape != expected.shape:
        return f"{label} has shape {got.shape}, torch's has {expected.shape}"
    verdict = compare_arrays(label, expected, got, tol, against="torch")
    return "" if verdict.ok else verdict.message


def _accuracy(name: str, spec: NetworkSpec, ref: dict[str, np.ndarray], history: Value | None,
              test: Value | None) -> CaseResult:
    theirs = float(ref["test_accuracy"]) if "test_accuracy" in ref else float(ref["accuracy"][-1])
    what = "test accuracy" if "test_accuracy" in ref else "accuracy after the last epoch"
    if "test_accuracy" in ref:
        mine_arr = None if test is None or test.kind != "scalar" else test.arrays[0]
        mine = None if mine_arr is None else float(mine_arr)
    else:
        accs = _numbers(history)
        mine = None if accs is None or len(accs) != spec.epochs else float(accs[-1])
        if accs is not None and len(accs) != spec.epochs:
            return CaseResult(f"{name} · accuracy", FAIL, f"{name}: history['accuracy'] has {len(accs)} entries, "
                              f"one per epoch is {spec.epochs}", {"quantity": "accuracy"})
    if mine is None:
        return CaseResult(f"{name} · accuracy", FAIL, f"{name}: no {what} came back (a float)", {"quantity": "accuracy"})
    low = max(theirs - spec.margin, spec.min_accuracy)
    details = {"quantity": "accuracy", "yours": mine, "torch": theirs}
    text = f"{what} {mine:.4f}"
    if spec.reported and "test_accuracy_epochs" in ref:  # the course text's run of this setup
        text += (f" (the course text reports {', '.join(f'{a:.4f}' for a in spec.reported)} after epoch"
                 f"{'s' if len(spec.reported) > 1 else ''} {', '.join(str(e + 1) for e in range(len(spec.reported)))}; "
                 f"torch's here {', '.join(f'{a:.4f}' for a in ref['test_accuracy_epochs'])})")
    if mine >= low - 1e-12:
        return CaseResult(f"{name} · accuracy", PASS, f"{name}: {text}, torch's {theirs:.4f} (at least "
                          f"{low:.4f} needed)", details)
    return CaseResult(f"{name} · accuracy", FAIL, f"{name}: {text}, below {low:.4f} (torch's {theirs:.4f} "
                      f"less {spec.margin:g}, and at least {spec.min_accuracy:g})", details)


def point_at_own_exercises(course: Course, graded: dict[str, ExerciseResult]) -> None:
    """A network's first departure in a layer (or in the optimizer's update) names that class's own
    exercise: "your Affine fails 1.10 too: fix that first" when it was graded in the same run and fails."""
    by_target = {ex.target: ex for ex in course.exercises}
    for result in graded.values():
        for check in result.checks:
            if check.name != "training":
                continue
            for case in check.cases:
                own = by_target.get(str(case.details.get("suspect", "")))
                if case.passed or own is None or own.id not in graded or graded[own.id].status == PASS:
                    continue
                case.message += (f"\n  your {own.name} fails its own exercise {own.id} too "
                                 f"({graded[own.id].reason.splitlines()[0][:120]}): fix that first")
