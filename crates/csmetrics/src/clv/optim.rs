//! Maximum likelihood: BFGS on the logs of the (positive) parameters with a backtracking
//! Armijo line search, and standard errors from the Hessian of the log-likelihood.
//!
//! The optimizer is deterministic: the same objective and start give the same bits.

use crate::error::{CsError, Result};

/// A negative log-likelihood per unit weight and its gradient, at log-parameters `theta`;
/// `None` when it cannot be evaluated there (the line search then steps back).
pub type Objective<'a> = dyn Fn(&[f64]) -> Option<(f64, Vec<f64>)> + Sync + 'a;

/// Where the optimizer stopped.
#[derive(Debug, Clone)]
pub struct Minimum {
    /// Log-parameters at the minimum.
    pub theta: Vec<f64>,
    /// Objective value there.
    pub value: f64,
    /// Iterations taken.
    pub iterations: usize,
    /// The final approximation of the inverse Hessian (row-major), to start a related fit.
    pub inverse: Vec<f64>,
}

/// Settings of [`minimize`].
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Stop when every gradient component (per unit weight, in log-parameters) is below this.
    pub gradient_tolerance: f64,
    /// Give up after this many iterations.
    pub max_iterations: usize,
    /// A log-parameter beyond this magnitude means the parameter ran off to 0 or infinity.
    pub max_log_parameter: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            gradient_tolerance: 1e-7,
            max_iterations: 1000,
            max_log_parameter: 30.0,
        }
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimizes `objective` from `start` by BFGS. `model` and `names` make the error messages.
pub fn minimize(
    objective: &Objective<'_>,
    start: &[f64],
    settings: Settings,
    model: &str,
    names: &[&str],
) -> Result<Minimum> {
    minimize_from(objective, start, None, settings, model, names)
}

/// [`minimize`] from a given approximation of the inverse Hessian (row-major; for example the
/// one a fit on a subsample ended with), which saves most iterations near the optimum.
pub fn minimize_from(
    objective: &Objective<'_>,
    start: &[f64],
    initial_inverse: Option<Vec<f64>>,
    settings: Settings,
    model: &str,
    names: &[&str],
) -> Result<Minimum> {
    let n = start.len();
    let fail = |reason: String| CsError::Convergence {
        model: model.to_string(),
        reason,
    };
    let mut theta = start.to_vec();
    let (mut value, mut grad) = objective(&theta)
        .filter(|(v, g)| v.is_finite() && g.iter().all(|x| x.is_finite()))
        .ok_or_else(|| fail("the log-likelihood is not finite at the starting values".into()))?;
    // Inverse Hessian approximation, row-major.
    let given = initial_inverse.filter(|m| m.len() == n * n && m.iter().all(|v| v.is_finite()));
    let mut scaled = given.is_some();
    let mut inverse = given.unwrap_or_else(|| identity(n));
    for iteration in 0..settings.max_iterations {
        crate::interrupt::check()?;
        if max_abs(&grad) < settings.gradient_tolerance {
            return Ok(Minimum {
                theta,
                value,
                iterations: iteration,
                inverse,
            });
        }
        let mut direction: Vec<f64> = (0..n)
            .map(|i| -(0..n).map(|j| inverse[i * n + j] * grad[j]).sum::<f64>())
            .collect();
        let mut slope = dot(&direction, &grad);
        if slope.is_nan() || slope >= 0.0 {
            inverse = identity(n);
            direction = grad.iter().map(|g| -g).collect();
            slope = dot(&direction, &grad);
        }
        // Never move a log-parameter by more than 2 in one step: keeps exp() in range and the
        // hypergeometric series of Pareto/NBD away from needlessly extreme arguments.
        let longest = max_abs(&direction);
        let mut step = if longest > 2.0 { 2.0 / longest } else { 1.0 };
        let mut accepted = None;
        for _ in 0..80 {
            let trial: Vec<f64> = theta
                .iter()
                .zip(&direction)
                .map(|(t, d)| t + step * d)
                .collect();
            if let Some((v, g)) = objective(&trial) {
                if v.is_finite()
                    && g.iter().all(|x| x.is_finite())
                    && v <= value + 1e-4 * step * slope
                    && v < value
                {
                    accepted = Some((trial, v, g));
                    break;
                }
            }
            step *= 0.5;
        }
        let Some((next, next_value, next_grad)) = accepted else {
            // No decrease is possible along the search direction: at the floating-point
            // resolution of the objective that is a minimum if the gradient is small.
            if max_abs(&grad) < 1e-5 {
                return Ok(Minimum {
                    theta,
                    value,
                    iterations: iteration,
                    inverse,
                });
            }
            return Err(fail(format!(
                "the line search found no decrease after {iteration} iterations \
                 (largest gradient component {:.3e})",
                max_abs(&grad)
            )));
        };
        if let Some(i) = next
            .iter()
            .position(|t| t.abs() > settings.max_log_parameter)
        {
            let towards = if next[i] > 0.0 { "infinity" } else { "zero" };
            return Err(fail(format!(
                "parameter {} ran off to {towards} (the data do not identify it)",
                names.get(i).copied().unwrap_or("?")
            )));
        }
        let s: Vec<f64> = next.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = next_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-16 {
            if !scaled {
                let gamma = sy / dot(&y, &y);
                inverse = identity(n).iter().map(|v| v * gamma).collect();
                scaled = true;
            }
            bfgs_update(&mut inverse, &s, &y, sy);
        }
        // Past this point the objective only moves by rounding noise.
        let settled = (value - next_value).abs() <= 1e-14 * value.abs().max(1.0);
        theta = next;
        value = next_value;
        grad = next_grad;
        if settled && max_abs(&grad) < 1e-5 {
            return Ok(Minimum {
                theta,
                value,
                iterations: iteration + 1,
                inverse,
            });
        }
    }
    Err(fail(format!(
        "no convergence within {} iterations (largest gradient component {:.3e})",
        settings.max_iterations,
        max_abs(&grad)
    )))
}

fn identity(n: usize) -> Vec<f64> {
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        m[i * n + i] = 1.0;
    }
    m
}

fn bfgs_update(inverse: &mut [f64], s: &[f64], y: &[f64], sy: f64) {
    let n = s.len();
    let rho = 1.0 / sy;
    let hy: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| inverse[i * n + j] * y[j]).sum())
        .collect();
    let yhy = dot(y, &hy);
    for i in 0..n {
        for j in 0..n {
            inverse[i * n + j] +=
                (1.0 + rho * yhy) * rho * s[i] * s[j] - rho * (hy[i] * s[j] + s[i] * hy[j]);
        }
    }
}

/// Standard errors of the parameters (not their logs) at log-parameters `theta`: square roots
/// of the diagonal of the inverse of the observed information, the Hessian of the negative
/// log-likelihood, taken as central differences of the analytic gradient.
///
/// `objective` is per unit weight and `total_weight` scales it back to the sum. A component is
/// NaN when the information matrix is not positive definite.
pub fn standard_errors(objective: &Objective<'_>, theta: &[f64], total_weight: f64) -> Vec<f64> {
    let n = theta.len();
    let params: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
    // Gradient with respect to the parameters: d/dp = d/dtheta / p.
    let gradient_at = |p: &[f64]| -> Option<Vec<f64>> {
        let t: Vec<f64> = p.iter().map(|v| v.ln()).collect();
        objective(&t).map(|(_, g)| g.iter().zip(p).map(|(g, p)| g / p * total_weight).collect())
    };
    let mut hessian = vec![0.0; n * n];
    for j in 0..n {
        let h = 1e-5 * params[j];
        let mut up = params.clone();
        let mut down = params.clone();
        up[j] += h;
        down[j] -= h;
        let (Some(gu), Some(gd)) = (gradient_at(&up), gradient_at(&down)) else {
            return vec![f64::NAN; n];
        };
        for i in 0..n {
            hessian[i * n + j] = (gu[i] - gd[i]) / (2.0 * h);
        }
    }
    for i in 0..n {
        for j in 0..i {
            let mean = 0.5 * (hessian[i * n + j] + hessian[j * n + i]);
            hessian[i * n + j] = mean;
            hessian[j * n + i] = mean;
        }
    }
    match invert_spd(&hessian, n) {
        Some(inverse) => (0..n).map(|i| inverse[i * n + i].sqrt()).collect(),
        None => vec![f64::NAN; n],
    }
}

/// The inverse of an information matrix (row-major, `n` x `n`): the covariance of the
/// estimates; `None` when it is not positive definite.
pub fn covariance(information: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut symmetric = information.to_vec();
    for i in 0..n {
        for j in 0..i {
            let mean = 0.5 * (symmetric[i * n + j] + symmetric[j * n + i]);
            symmetric[i * n + j] = mean;
            symmetric[j * n + i] = mean;
        }
    }
    invert_spd(&symmetric, n)
}

/// The covariance of the log-parameters `theta`: the inverse of the Hessian of the negative
/// log-likelihood in `theta` (central differences of the analytic gradient), row-major;
/// `None` when it is not positive definite.
pub fn log_covariance(
    objective: &Objective<'_>,
    theta: &[f64],
    total_weight: f64,
) -> Option<Vec<f64>> {
    let n = theta.len();
    let mut hessian = vec![0.0; n * n];
    for j in 0..n {
        let h = 1e-5;
        let mut up = theta.to_vec();
        let mut down = theta.to_vec();
        up[j] += h;
        down[j] -= h;
        let (gu, gd) = (objective(&up)?.1, objective(&down)?.1);
        for i in 0..n {
            hessian[i * n + j] = (gu[i] - gd[i]) / (2.0 * h) * total_weight;
        }
    }
    covariance(&hessian, n)
}

/// The lower-triangular Cholesky factor of a symmetric positive definite matrix (row-major);
/// `None` when it is not positive definite.
pub fn cholesky(m: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = m[i * n + i] - sum;
                if d.is_nan() || d <= 0.0 {
                    return None;
                }
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = (m[i * n + j] - sum) / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Inverse of a symmetric positive definite matrix by Cholesky; `None` when it is not.
fn invert_spd(m: &[f64], n: usize) -> Option<Vec<f64>> {
    let l = cholesky(m, n)?;
    // Solve L L^T X = I column by column.
    let mut inverse = vec![0.0; n * n];
    for col in 0..n {
        let mut y = vec![0.0; n];
        for i in 0..n {
            let rhs = if i == col { 1.0 } else { 0.0 };
            let sum: f64 = (0..i).map(|k| l[i * n + k] * y[k]).sum();
            y[i] = (rhs - sum) / l[i * n + i];
        }
        let mut x = vec![0.0; n];
        for i in (0..n).rev() {
            let sum: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
            x[i] = (y[i] - sum) / l[i * n + i];
        }
        for i in 0..n {
            inverse[i * n + col] = x[i];
        }
    }
    Some(inverse)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn minimizes_a_rosenbrock_valley_and_reports_errors() {
        let rosenbrock = |t: &[f64]| {
            let (x, y) = (t[0], t[1]);
            let value = (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2);
            let gx = -2.0 * (1.0 - x) - 400.0 * x * (y - x * x);
            let gy = 200.0 * (y - x * x);
            Some((value, vec![gx, gy]))
        };
        let found = minimize(
            &rosenbrock,
            &[-1.2, 1.0],
            Settings::default(),
            "test",
            &["x", "y"],
        )
        .unwrap();
        assert!((found.theta[0] - 1.0).abs() < 1e-6);
        assert!((found.theta[1] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn unbounded_objective_is_a_convergence_error() {
        let slope = |t: &[f64]| Some((t[0], vec![1.0]));
        let err = minimize(&slope, &[0.0], Settings::default(), "test", &["a"]).unwrap_err();
        assert!(err.to_string().contains("ran off to zero"), "{err}");
    }
}
