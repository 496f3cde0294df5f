"""L-BFGS (limited-memory BFGS), PyTorch's algorithm step for step, with its optional strong-Wolfe line search.

The whole optimization works on one flat vector: the gradients of all parameters concatenated (a missing gradient
counts as zeros), and a direction ``d`` of the same length that is added back to the parameters' arrays in place.
"""

from collections import defaultdict

import numpy as np

from .. import backend
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from ._state import plain_array
from .optimizer import Optimizer

_LINE_SEARCHES = (None, "strong_wolfe")

# (name, kind) of the global state, in PyTorch's order: "vector" arrays, "vectors" lists of arrays, "scalar" numbers
# in the parameters' dtype, "scalars" lists of them, "int" and "float" plain Python numbers
_STATE = (("func_evals", "int"), ("n_iter", "int"), ("d", "vector"), ("t", "scalar"), ("old_dirs", "vectors"),
          ("old_stps", "vectors"), ("ro", "scalars"), ("H_diag", "scalar"), ("prev_flat_grad", "vector"),
          ("prev_loss", "float"), ("al", "scalars"))


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clipped to ``bounds`` (by
    default [min(x1, x2), max(x1, x2)]); the middle of the bounds when the cubic has no minimum.

    d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2);  d2 = sqrt(d1^2 - g1 g2);
    x_min = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)   (x2 the larger point).
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Find a step ``t`` along ``d`` meeting the strong Wolfe conditions, using at most ``max_ls`` evaluations.

    Sufficient decrease f(x + t d) <= f + c1 t gtd and curvature |g(x + t d) . d| <= -c2 gtd. First a bracket
    [t_lo, t_hi] containing such a point is grown (cubic extrapolation up to 10 t), then shrunk by cubic
    interpolation (zoom), stepping 10% of the bracket away from an edge when the interpolation keeps landing near
    one. When the evaluations run out or the bracket shrinks below ``tolerance_change`` the best point seen is
    returned. ``obj_func(x, t, d)`` gives (loss, flat gradient) at x + t d. Returns (f_new, g_new, t, evaluations).
    """
    d_norm = abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)

    # bracketing phase
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # still descending and curving down: extrapolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

    if ls_iter >= max_ls:  # out of evaluations: choose between the start and the last point (no zoom follows)
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])

        # a trial point within 10% of an edge is moved to 10% inside when it lands on (or beyond) the edge, or when
        # the previous trial was also that close: otherwise the bracket would shrink too slowly
        hi, lo = max(bracket), min(bracket)
        eps = 0.1 * (hi - lo)
        if min(hi - t, t - lo) < eps:
            if insuf_progress or t >= hi or t <= lo:
                t = hi - eps if abs(t - hi) < abs(t - lo) else lo + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # no sufficient decrease, or not below the low end: the trial becomes the high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the slope points back past the low end: the old low becomes the high end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    """L-BFGS, as PyTorch's ``torch.optim.LBFGS`` (after minFunc). ``step(closure)`` runs up to ``max_iter``
    iterations; the closure zeroes the gradients, computes the loss, calls ``backward`` and returns the loss.

    Each iteration: y = g - g_prev, s = t d; when y . s > 1e-10 the pair (s, y) joins the history (at most
    ``history_size`` pairs, rho = 1 / (y . s)) and H_diag = (y . s) / (y . y). The direction d = -H g comes from the
    two-loop recursion: q = -g; for the pairs newest first a_i = rho_i s_i . q, q -= a_i y_i; r = H_diag q; oldest
    first b_i = rho_i y_i . r, r += (a_i - b_i) s_i; d = r. (The very first iteration: d = -g, t = min(1, 1/|g|_1) lr;
    later t = lr.) Then x += t d, with t from the strong-Wolfe line search when ``line_search_fn="strong_wolfe"``.
    Stops when max |g| <= tolerance_grad, g . d > -tolerance_change, max |t d| <= tolerance_change, the loss changes
    by less than tolerance_change, or after ``max_iter`` iterations or ``max_eval`` closure calls (default
    max_iter * 5 // 4).

    Only one parameter group. The state (history, direction, step counts) is global, kept across ``step`` calls and
    saved by ``state_dict`` under the first parameter, as PyTorch does. Memory: about (2 history_size + 3) times the
    number of parameters.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        self._params = self.param_groups[0]["params"]
        self._global_state = {}

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _check_group(self, group):
        super()._check_group(group)
        _check_line_search(group["line_search_fn"])

    # ------------------------------------------------------------------------------ the flat parameter vector
    def _gather_flat_grad(self):
        """All gradients concatenated into a new 1-D array (zeros for a parameter without one)."""
        xp = backend.get_array_module(self._params[0].array)
        return xp.concatenate([p.grad.array.reshape(-1) if p.grad is not None
                               else xp.zeros(p.array.size, p.array.dtype) for p in self._params])

    def _add_grad(self, step_size, update):
        """x += step_size * update, written into each parameter's array."""
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += step_size * update[offset:offset + n].reshape(p.array.shape)
            offset += n

    def _clone_param(self):
        return [p.array.copy() for p in self._params]

    def _set_param(self, arrays):
        for p, a in zip(self._params, arrays):
            p.array[...] = a

    def _directional_evaluate(self, closure, x, t, d):
        """(loss, flat gradient) at x + t d; the parameters are put back to ``x`` afterwards."""
        self._add_grad(t, d)
        loss = float(_call(closure))
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ------------------------------------------------------------------------------------------------- step
    def step(self, closure=None):
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss the closure gave on its first call."""
        if closure is None:
            raise TypeError("LBFGS.step() missing 1 required positional argument: 'closure' (a function that zeroes "
                            "the gradients, computes the loss, calls backward() and returns the loss)")
        self._opt_called = True
        group = self.param_groups[0]
        lr = group["lr"].item() if isinstance(group["lr"], Tensor) else group["lr"]
        max_iter, max_eval, history_size = group["max_iter"], group["max_eval"], group["history_size"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        _check_line_search(line_search_fn)

        state = self._global_state
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = _call(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # direction
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # curvature condition: only then does the pair keep H positive definite
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q += -al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # step length
            t = min(1.0, 1.0 / abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:  # not a descent direction (any more)
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd,
                                                                  max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    # not after the last iteration: with stochastic losses that evaluation would be wasted
                    loss = float(_call(closure))
                    flat_grad = self._gather_flat_grad()
                    opt_cond = abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # stopping rules
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    # ------------------------------------------------------------------------------------------------ state
    @property
    def state(self):
        """{first parameter: the global state} (live values), as PyTorch's ``optimizer.state``."""
        out = defaultdict(dict)
        if self._global_state:
            out[self._params[0]] = self._global_state
        return out

    def state_dict(self):
        """PyTorch's layout: the global state as entry 0, arrays as Tensor copies, lists as lists."""
        group = self.param_groups[0]
        saved = {k: v for k, v in group.items() if k != "params"}
        saved["params"] = list(range(len(self._params)))
        entry = {}
        for name, kind in _STATE:
            if name in self._global_state:
                entry[name] = _save(self._global_state[name], kind)
        return {"state": {0: entry} if entry else {}, "param_groups": [saved]}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by ``state_dict`` (ganglion's or PyTorch's)."""
        groups = state_dict["param_groups"]
        if len(groups) != 1:
            raise ValueError(f"loaded state dict has {len(groups)} parameter group(s), the optimizer has 1")
        if len(groups[0]["params"]) != len(self._params):
            raise ValueError(f"loaded state dict contains a parameter group 0 of {len(groups[0]['params'])} "
                             f"parameters, which doesn't match the size of the optimizer's group ({len(self._params)})")
        entries = state_dict["state"]
        first = groups[0]["params"][0]
        entry = entries.get(first, entries.get(str(first), {}))
        like = self._params[0].array
        numel = sum(p.array.size for p in self._params)
        restored = {}
        for name, kind in _STATE:
            if name in entry:
                restored[name] = _load(entry[name], kind, like, numel, name)
        for key, value in groups[0].items():
            if key != "params":
                self.param_groups[0][key] = value
        self._global_state = restored


def _check_line_search(line_search_fn):
    if line_search_fn not in _LINE_SEARCHES:
        raise ValueError(f"Invalid line_search_fn: {line_search_fn!r} (expected None or 'strong_wolfe')")


def _call(closure):
    """The closure, always run with the graph recorded."""
    with enable_grad():
        return closure()


def _save(value, kind):
    if value is None:
        return None
    if kind == "vector":
        return Tensor._wrap(value.copy())
    if kind == "vectors":
        return [Tensor._wrap(v.copy()) for v in value]
    if kind == "scalars":
        return [None if v is None else float(v) for v in value]
    if kind == "scalar":
        return float(value)
    return value


def _load(value, kind, like, numel, name):
    """A saved state entry as this optimizer keeps it: copies (a torch tensor's numpy view would change with it),
    in the parameters' dtype and on their device."""
    if value is None:
        return None
    xp = backend.get_array_module(like)

    def vector(v):
        a = xp.asarray(plain_array(v), dtype=like.dtype).reshape(-1).copy()
        if a.size != numel:
            raise ValueError(f"load_state_dict: state {name!r} has {a.size} elements, the parameters have {numel}")
        return a

    def scalar(v):
        return None if v is None else like.dtype.type(float(plain_array(v)))

    if kind == "vector":
        return vector(value)
    if kind == "vectors":
        return [vector(v) for v in value]
    if kind == "scalars":
        return [scalar(v) for v in value]
    if kind == "scalar":
        return scalar(value)
    if kind == "int":
        return int(plain_array(value))
    return float(plain_array(value))
