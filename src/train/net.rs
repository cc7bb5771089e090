//! The network in training layout, and the buffers of one training step.
//!
//! Parameters live in one flat vector (all weight matrices, then all biases) so that the optimiser is a
//! single loop and decay applies to the first part only. Each weight matrix is stored transposed,
//! `[inputs][outputs]`, which is the layout the forward product and the weight gradient both write
//! without copies. [`Workspace`] holds every activation, mask and gradient buffer for a fixed number
//! of rows: a training step allocates nothing.

use super::gemm::{gemm, isa_dispatch, Kernel};
use super::loss::{bce_grad, bce_with_logits};
use super::TrainSet;
use crate::eval::Confusion;
use crate::nn::{Dense, Mlp};
use crate::rng::Rng;

/// Flat parameters with per-layer offsets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Net {
    /// `dims, hidden..., 1`.
    pub(crate) widths: Vec<usize>,
    /// Weights (transposed, `[in][out]`, layer by layer) then biases.
    pub(crate) params: Vec<f32>,
    w_off: Vec<usize>,
    b_off: Vec<usize>,
    /// How many leading entries of `params` are weights (the decayed part).
    pub(crate) n_weights: usize,
}

impl Net {
    pub(crate) fn from_mlp(mlp: &Mlp) -> Net {
        let mut widths = vec![mlp.input_dims()];
        widths.extend(mlp.layers.iter().map(|l| l.outputs));
        let n_weights: usize = mlp.layers.iter().map(|l| l.inputs * l.outputs).sum();
        let n_bias: usize = mlp.layers.iter().map(|l| l.outputs).sum();
        let mut params = vec![0.0; n_weights + n_bias];
        let (mut w_off, mut b_off) = (Vec::new(), Vec::new());
        let (mut wo, mut bo) = (0, n_weights);
        for l in &mlp.layers {
            let (inp, out) = (l.inputs, l.outputs);
            for o in 0..out {
                for i in 0..inp {
                    params[wo + i * out + o] = l.weight[o * inp + i];
                }
            }
            params[bo..bo + out].copy_from_slice(&l.bias);
            w_off.push(wo);
            b_off.push(bo);
            wo += inp * out;
            bo += out;
        }
        Net { widths, params, w_off, b_off, n_weights }
    }

    pub(crate) fn to_mlp(&self) -> Mlp {
        let layers = (0..self.layers())
            .map(|l| {
                let (inp, out) = (self.widths[l], self.widths[l + 1]);
                let wt = self.wt(l);
                let mut weight = vec![0.0; inp * out];
                for i in 0..inp {
                    for o in 0..out {
                        weight[o * inp + i] = wt[i * out + o];
                    }
                }
                Dense { inputs: inp, outputs: out, weight, bias: self.bias(l).to_vec() }
            })
            .collect();
        Mlp { layers }
    }

    pub(crate) fn layers(&self) -> usize {
        self.widths.len() - 1
    }

    fn wt(&self, l: usize) -> &[f32] {
        &self.params[self.w_off[l]..self.w_off[l] + self.widths[l] * self.widths[l + 1]]
    }

    fn bias(&self, l: usize) -> &[f32] {
        &self.params[self.b_off[l]..self.b_off[l] + self.widths[l + 1]]
    }
}

/// Dropout state for a training forward pass.
pub(crate) struct Dropout<'a> {
    pub(crate) rng: &'a mut Rng,
    /// Drop probability in [0, 1).
    pub(crate) p: f32,
}

impl Dropout<'_> {
    /// A unit is kept when its 32 random bits are `>= threshold`: keep probability `1 - p`.
    fn threshold(&self) -> u32 {
        (f64::from(self.p) * 4_294_967_296.0).round().min(f64::from(u32::MAX)) as u32
    }
    fn scale(&self) -> f32 {
        1.0 / (1.0 - self.p)
    }
}

/// Buffers for up to `cap` rows.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    cap: usize,
    x: Vec<f32>,
    y: Vec<f32>,
    w: Vec<f32>,
    /// Per layer `[rows][out]`: post-ReLU-dropout activations for hidden layers, logits for the last.
    acts: Vec<Vec<f32>>,
    bits: Vec<u32>,
    dz: Vec<f32>,
    dzt: Vec<f32>,
    dat: Vec<f32>,
    /// Gradient of the batch loss, laid out like [`Net::params`].
    pub(crate) grads: Vec<f32>,
}

impl Workspace {
    pub(crate) fn new(net: &Net, cap: usize) -> Workspace {
        let w = &net.widths;
        let maxw = w.iter().copied().max().unwrap_or(1);
        let max_hidden = w[1..w.len() - 1].iter().copied().max().unwrap_or(0);
        Workspace {
            cap,
            x: vec![0.0; cap * w[0]],
            y: vec![0.0; cap],
            w: vec![0.0; cap],
            acts: w[1..].iter().map(|&o| vec![0.0; cap * o]).collect(),
            bits: vec![0; cap * max_hidden],
            dz: vec![0.0; cap * maxw],
            dzt: vec![0.0; cap * maxw],
            dat: vec![0.0; cap * maxw],
            grads: vec![0.0; net.params.len()],
        }
    }

    /// Copy the rows `idx` of `set` into the batch buffers.
    pub(crate) fn gather(&mut self, set: &TrainSet<'_>, idx: &[usize]) {
        assert!(idx.len() <= self.cap, "batch larger than the workspace");
        let d = set.dims;
        for (r, &i) in idx.iter().enumerate() {
            self.x[r * d..(r + 1) * d].copy_from_slice(&set.x[i * d..(i + 1) * d]);
            self.y[r] = set.y[i];
            self.w[r] = set.w[i];
        }
    }

    /// Copy `rows` consecutive rows of `set` starting at `start`.
    pub(crate) fn load_range(&mut self, set: &TrainSet<'_>, start: usize, rows: usize) {
        assert!(rows <= self.cap, "batch larger than the workspace");
        let d = set.dims;
        self.x[..rows * d].copy_from_slice(&set.x[start * d..(start + rows) * d]);
        self.y[..rows].copy_from_slice(&set.y[start..start + rows]);
        self.w[..rows].copy_from_slice(&set.w[start..start + rows]);
    }

    /// The last hidden layer's activations of the last forward pass (after ReLU and dropout),
    /// `[rows][widths[layers - 1]]`: what heads beside the output read. `None` without a hidden layer.
    pub(crate) fn last_hidden(&self, rows: usize, net: &Net) -> Option<&[f32]> {
        let l = net.layers();
        (l >= 2).then(|| &self.acts[l - 2][..rows * net.widths[l - 1]])
    }

    /// Logits of the last forward pass.
    pub(crate) fn logits(&self, rows: usize) -> &[f32] {
        &self.acts[self.acts.len() - 1][..rows]
    }

    /// Forward pass over the loaded rows; `dropout` is `None` for evaluation.
    pub(crate) fn forward(&mut self, net: &Net, rows: usize, kernel: Kernel, mut dropout: Option<Dropout<'_>>) {
        let layers = net.layers();
        for l in 0..layers {
            let (inp, out) = (net.widths[l], net.widths[l + 1]);
            let (prev, rest) = self.acts.split_at_mut(l);
            let a: &[f32] = if l == 0 { &self.x[..rows * inp] } else { &prev[l - 1][..rows * inp] };
            let z = &mut rest[0][..rows * out];
            gemm(kernel, (rows, out, inp), a, (inp, 1), net.wt(l), out, z, out, false);
            let b = net.bias(l);
            if l + 1 == layers {
                z.iter_mut().zip(b.iter().cycle()).for_each(|(v, bv)| *v += bv);
                continue;
            }
            match dropout.as_mut() {
                Some(d) if d.p > 0.0 => {
                    let bits = &mut self.bits[..rows * out];
                    fill_bits(d.rng, bits);
                    act_dropout_isa(kernel, z, b, bits, d.threshold(), d.scale());
                }
                _ => act_relu_isa(kernel, z, b),
            }
        }
    }

    /// Weighted BCE of the last forward pass: returns `sum_i w_i l_i` (not yet divided by `rows`) and
    /// seeds the backward pass with the gradient of `sum_i w_i l_i / rows`.
    pub(crate) fn loss_and_seed(&mut self, rows: usize) -> f64 {
        let last = self.acts.len() - 1;
        let s = &self.acts[last][..rows];
        let inv = 1.0 / rows as f32;
        let mut total = 0.0f64;
        for (((&s, &y), &w), dz) in s.iter().zip(&self.y).zip(&self.w).zip(&mut self.dz[..rows]) {
            total += f64::from(w * bce_with_logits(s, y));
            *dz = w * bce_grad(s, y) * inv;
        }
        total
    }

    /// Weighted loss sum of the last forward pass; its decisions at 0.5 (logit >= 0) are added to `confusion`.
    pub(crate) fn score(&self, rows: usize, confusion: &mut Confusion) -> f64 {
        let s = self.logits(rows);
        let mut total = 0.0f64;
        for ((&s, &y), &w) in s.iter().zip(&self.y).zip(&self.w) {
            total += f64::from(w * bce_with_logits(s, y));
            confusion.add(y > 0.5, s >= 0.0);
        }
        total
    }

    /// Load `rows` rows of inputs (row-major, `widths[0]` wide), labels and weights.
    pub(crate) fn load_rows(&mut self, x: &[f32], y: &[f32], w: &[f32], rows: usize) {
        assert!(rows <= self.cap, "batch larger than the workspace");
        let d = x.len() / rows.max(1);
        self.x[..rows * d].copy_from_slice(&x[..rows * d]);
        self.y[..rows].copy_from_slice(&y[..rows]);
        self.w[..rows].copy_from_slice(&w[..rows]);
    }

    /// Add `extra[r]` to row `r`'s logit of the last forward pass (a term computed outside the net).
    pub(crate) fn add_to_logits(&mut self, extra: &[f32]) {
        let last = self.acts.len() - 1;
        self.acts[last].iter_mut().zip(extra).for_each(|(z, e)| *z += e);
    }

    /// The gradient of the batch loss with respect to each row's logit: valid between
    /// [`Workspace::loss_and_seed`] and the backward pass.
    pub(crate) fn logit_grads(&self, rows: usize) -> &[f32] {
        &self.dz[..rows]
    }

    /// Backward pass after [`Workspace::loss_and_seed`]; fills [`Workspace::grads`]. `dropout_p` must
    /// be the drop probability the forward pass used (0 when it had none).
    pub(crate) fn backward(&mut self, net: &Net, rows: usize, kernel: Kernel, dropout_p: f32) {
        self.backward_into(net, rows, kernel, dropout_p, None, None);
    }

    /// [`Workspace::backward`] that also writes the gradient with respect to the inputs into `dx`
    /// (`rows x widths[0]`), for a layer in front of the net. `hidden_grad`, when given, is a further
    /// gradient with respect to [`Workspace::last_hidden`] (from heads reading it), added to the one
    /// the output layer sends back.
    pub(crate) fn backward_with_input(
        &mut self,
        net: &Net,
        rows: usize,
        kernel: Kernel,
        dropout_p: f32,
        dx: &mut [f32],
        hidden_grad: Option<&[f32]>,
    ) {
        self.backward_into(net, rows, kernel, dropout_p, Some(dx), hidden_grad);
    }

    fn backward_into(
        &mut self,
        net: &Net,
        rows: usize,
        kernel: Kernel,
        dropout_p: f32,
        dx: Option<&mut [f32]>,
        hidden_grad: Option<&[f32]>,
    ) {
        let scale = 1.0 / (1.0 - dropout_p);
        let mut dx = dx;
        for l in (0..net.layers()).rev() {
            let (inp, out) = (net.widths[l], net.widths[l + 1]);
            let a: &[f32] = if l == 0 { &self.x[..rows * inp] } else { &self.acts[l - 1][..rows * inp] };
            let dz = &self.dz[..rows * out];
            let (gw, gb) = self.grads.split_at_mut(net.n_weights);
            let gw = &mut gw[net.w_off[l]..net.w_off[l] + inp * out];
            let gb = &mut gb[net.b_off[l] - net.n_weights..net.b_off[l] - net.n_weights + out];
            // dW^T[in][out] = A^T dZ: A read column-wise through strides, no copy.
            gemm(kernel, (inp, out, rows), a, (1, inp), dz, out, gw, out, false);
            col_sums_isa(kernel, dz, gb);
            if l == 0 && dx.is_none() {
                break;
            }
            // dA^T[in][rows] = W^T[in][out] dZ^T[out][rows]; dZ^T is small (rows x out) to transpose.
            let dzt = &mut self.dzt[..rows * out];
            transpose_isa(kernel, dz, dzt, rows, out);
            let dat = &mut self.dat[..rows * inp];
            gemm(kernel, (inp, rows, out), net.wt(l), (out, 1), dzt, rows, dat, rows, false);
            if l == 0 {
                if let Some(dx) = dx.take() {
                    transpose_isa(kernel, dat, &mut dx[..rows * inp], inp, rows);
                }
                break;
            }
            let act = &self.acts[l - 1][..rows * inp];
            let dz = &mut self.dz[..rows * inp];
            transpose_isa(kernel, dat, dz, inp, rows);
            if let (true, Some(g)) = (l + 1 == net.layers(), hidden_grad) {
                dz.iter_mut().zip(g).for_each(|(d, &h)| *d += h);
            }
            mask_back_isa(kernel, act, dz, scale);
        }
    }
}

isa_dispatch!(fn act_dropout_isa(z: &mut [f32], b: &[f32], bits: &[u32], t: u32, s: f32) => act_dropout);
isa_dispatch!(fn act_relu_isa(z: &mut [f32], b: &[f32]) => act_relu);
isa_dispatch!(fn col_sums_isa(dz: &[f32], gb: &mut [f32]) => col_sums);
isa_dispatch!(fn transpose_isa(src: &[f32], dst: &mut [f32], rows: usize, cols: usize) => transpose);
isa_dispatch!(fn mask_back_isa(act: &[f32], dz: &mut [f32], scale: f32) => mask_back);

/// `z = relu(z + b) * s` where a unit's random bits are `>= t`, else 0 (inverted dropout).
#[inline(always)]
fn act_dropout(z: &mut [f32], b: &[f32], bits: &[u32], t: u32, s: f32) {
    let out = b.len();
    for (zr, br) in z.chunks_exact_mut(out).zip(bits.chunks_exact(out)) {
        for ((v, &bv), &bit) in zr.iter_mut().zip(b).zip(br) {
            let r = (*v + bv).max(0.0) * s;
            *v = if bit >= t { r } else { 0.0 };
        }
    }
}

#[inline(always)]
fn act_relu(z: &mut [f32], b: &[f32]) {
    for zr in z.chunks_exact_mut(b.len()) {
        for (v, &bv) in zr.iter_mut().zip(b) {
            *v = (*v + bv).max(0.0);
        }
    }
}

/// `gb = sum over rows of dz` (`dz` is `[rows][gb.len()]`).
#[inline(always)]
fn col_sums(dz: &[f32], gb: &mut [f32]) {
    let out = gb.len();
    gb.copy_from_slice(&dz[..out]);
    for row in dz.chunks_exact(out).skip(1) {
        gb.iter_mut().zip(row).for_each(|(g, d)| *g += d);
    }
}

/// `dst[cols][rows] = src[rows][cols]^T`, in 8 x 8 blocks that stay in L1.
#[inline(always)]
fn transpose(src: &[f32], dst: &mut [f32], rows: usize, cols: usize) {
    const B: usize = 8;
    let (src, dst) = (&src[..rows * cols], &mut dst[..rows * cols]);
    for r0 in (0..rows).step_by(B) {
        let r1 = (r0 + B).min(rows);
        for c0 in (0..cols).step_by(B) {
            let c1 = (c0 + B).min(cols);
            for r in r0..r1 {
                let srow = &src[r * cols + c0..r * cols + c1];
                for (c, &v) in (c0..c1).zip(srow) {
                    dst[c * rows + r] = v;
                }
            }
        }
    }
}

/// Through ReLU and inverted dropout: a unit passes its gradient times `scale` iff its activation is
/// > 0 (kept and positive), else 0. Branch-free so that the random mask costs no mispredictions.
#[inline(always)]
fn mask_back(act: &[f32], dz: &mut [f32], scale: f32) {
    for (d, &a) in dz.iter_mut().zip(act) {
        *d = if a > 0.0 { *d * scale } else { 0.0 };
    }
}

fn fill_bits(rng: &mut Rng, bits: &mut [u32]) {
    let mut pairs = bits.chunks_exact_mut(2);
    for p in &mut pairs {
        let u = rng.next_u64();
        p[0] = u as u32;
        p[1] = (u >> 32) as u32;
    }
    for b in pairs.into_remainder() {
        *b = rng.next_u64() as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f64 reference loss of the batch for given flat parameters, with a fixed per-unit multiplier
    /// (0 or 1/(1-p)) taken from the f32 pass so that dropout is reproduced exactly.
    fn ref_loss(net: &Net, params: &[f64], x: &[f32], y: &[f32], w: &[f32], rows: usize, mult: &[Vec<f64>]) -> f64 {
        let nl = net.layers();
        let mut total = 0.0;
        for r in 0..rows {
            let mut cur: Vec<f64> =
                x[r * net.widths[0]..(r + 1) * net.widths[0]].iter().map(|&v| f64::from(v)).collect();
            for l in 0..nl {
                let (inp, out) = (net.widths[l], net.widths[l + 1]);
                let mut next = vec![0.0; out];
                for (o, nv) in next.iter_mut().enumerate() {
                    let mut acc = params[net.b_off[l] + o];
                    for i in 0..inp {
                        acc += params[net.w_off[l] + i * out + o] * cur[i];
                    }
                    *nv = if l + 1 < nl { acc.max(0.0) * mult[l][r * out + o] } else { acc };
                }
                cur = next;
            }
            let s = cur[0];
            let l = s.max(0.0) - s * f64::from(y[r]) + (-s.abs()).exp().ln_1p();
            total += f64::from(w[r]) * l;
        }
        total / rows as f64
    }

    /// The analytic f32 gradient agrees with central finite differences of an f64 reference to
    /// |analytic - numeric| <= 2e-3 * (|numeric| + 1e-2): f32 accumulation over these tiny layers is
    /// good to ~1e-6 relative, the f64 differences (h = 1e-4) to ~1e-8, so the bound leaves room only
    /// for real mistakes (a missed transpose or dropout scale is off by O(1)).
    #[test]
    fn backward_matches_finite_differences_with_dropout_on_every_kernel() {
        for kernel in Kernel::available() {
            let mlp = Mlp::init(7, &[9, 5], 3).unwrap();
            let mut net = Net::from_mlp(&mlp);
            let mut rng = Rng::new(5);
            // Non-zero biases so that ReLU kinks are not all at the initial point.
            let nw = net.n_weights;
            net.params[nw..].iter_mut().for_each(|b| *b = rng.normal() * 0.1);
            let rows = 6;
            let x: Vec<f32> = (0..rows * 7).map(|_| rng.normal()).collect();
            let y: Vec<f32> = (0..rows).map(|i| (i % 2) as f32).collect();
            let w: Vec<f32> = (0..rows).map(|i| 0.5 + i as f32 * 0.3).collect();
            let set = TrainSet { x: &x, dims: 7, y: &y, w: &w };
            let mut ws = Workspace::new(&net, rows);
            ws.load_range(&set, 0, rows);
            let p = 0.4;
            let mut drng = Rng::new(11);
            ws.forward(&net, rows, kernel, Some(Dropout { rng: &mut drng, p }));
            let s = 1.0 / (1.0 - f64::from(p));
            let mult: Vec<Vec<f64>> = (0..net.layers() - 1)
                .map(|l| {
                    ws.acts[l][..rows * net.widths[l + 1]].iter().map(|&a| if a > 0.0 { s } else { 0.0 }).collect()
                })
                .collect();
            let loss = ws.loss_and_seed(rows) / rows as f64;
            ws.backward(&net, rows, kernel, p);
            let params: Vec<f64> = net.params.iter().map(|&v| f64::from(v)).collect();
            let want = ref_loss(&net, &params, &x, &y, &w, rows, &mult);
            assert!((loss - want).abs() < 1e-5, "loss {loss} vs {want}");
            let h = 1e-4;
            for i in 0..params.len() {
                let mut pp = params.clone();
                pp[i] += h;
                let up = ref_loss(&net, &pp, &x, &y, &w, rows, &mult);
                pp[i] -= 2.0 * h;
                let down = ref_loss(&net, &pp, &x, &y, &w, rows, &mult);
                let num = (up - down) / (2.0 * h);
                let got = f64::from(ws.grads[i]);
                assert!(
                    (got - num).abs() <= 2e-3 * (num.abs() + 1e-2),
                    "{kernel:?} param {i}: analytic {got} vs numeric {num}"
                );
            }
        }
    }

    /// A gradient given for the last hidden layer (as heads send it) reaches every parameter: with the
    /// extra loss `sum c * a` on the last hidden activations `a`, `hidden_grad = c` makes the gradients
    /// those of `ref_loss + sum c * a`, checked by central differences.
    #[test]
    fn a_last_hidden_gradient_reaches_every_parameter() {
        let kernel = Kernel::Scalar;
        let mlp = Mlp::init(5, &[6, 4], 8).unwrap();
        let mut net = Net::from_mlp(&mlp);
        let mut rng = Rng::new(9);
        let nw = net.n_weights;
        net.params[nw..].iter_mut().for_each(|b| *b = rng.normal() * 0.1);
        let rows = 4;
        let x: Vec<f32> = (0..rows * 5).map(|_| rng.normal()).collect();
        let y: Vec<f32> = (0..rows).map(|i| (i % 2) as f32).collect();
        let w = vec![1.0; rows];
        let c: Vec<f32> = (0..rows * 4).map(|_| rng.normal()).collect();
        let set = TrainSet { x: &x, dims: 5, y: &y, w: &w };
        let mut ws = Workspace::new(&net, rows);
        ws.load_range(&set, 0, rows);
        ws.forward(&net, rows, kernel, None);
        assert_eq!(ws.last_hidden(rows, &net).map(<[f32]>::len), Some(rows * 4));
        ws.loss_and_seed(rows);
        let mut dx = vec![0.0; rows * 5];
        ws.backward_with_input(&net, rows, kernel, 0.0, &mut dx, Some(&c));
        let ones: Vec<Vec<f64>> = (0..net.layers() - 1).map(|l| vec![1.0; rows * net.widths[l + 1]]).collect();
        let total = |p: &[f64]| {
            let base = ref_loss(&net, p, &x, &y, &w, rows, &ones);
            // The last hidden activations in f64.
            let mut extra = 0.0;
            for r in 0..rows {
                let mut cur: Vec<f64> = x[r * 5..(r + 1) * 5].iter().map(|&v| f64::from(v)).collect();
                for l in 0..net.layers() - 1 {
                    let (inp, out) = (net.widths[l], net.widths[l + 1]);
                    cur = (0..out)
                        .map(|o| {
                            let acc = p[net.b_off[l] + o]
                                + (0..inp).map(|i| p[net.w_off[l] + i * out + o] * cur[i]).sum::<f64>();
                            acc.max(0.0)
                        })
                        .collect();
                }
                extra += cur.iter().zip(&c[r * 4..(r + 1) * 4]).map(|(a, &cv)| a * f64::from(cv)).sum::<f64>();
            }
            base + extra
        };
        let params: Vec<f64> = net.params.iter().map(|&v| f64::from(v)).collect();
        let h = 1e-4;
        for i in 0..params.len() {
            let (mut up, mut down) = (params.clone(), params.clone());
            up[i] += h;
            down[i] -= h;
            let num = (total(&up) - total(&down)) / (2.0 * h);
            let got = f64::from(ws.grads[i]);
            assert!((got - num).abs() <= 2e-3 * (num.abs() + 1e-2), "param {i}: analytic {got} vs numeric {num}");
        }
    }

    #[test]
    fn training_layout_round_trips_to_the_mlp() {
        let mlp = Mlp::init(5, &[4, 3], 9).unwrap();
        assert_eq!(Net::from_mlp(&mlp).to_mlp(), mlp);
    }

    #[test]
    fn dropout_keeps_about_one_minus_p_of_the_units() {
        let mut rng = Rng::new(1);
        let d = Dropout { rng: &mut rng, p: 0.3 };
        let t = d.threshold();
        let mut bits = vec![0u32; 100_001];
        fill_bits(&mut rng, &mut bits);
        let kept = bits.iter().filter(|&&b| b >= t).count() as f64 / bits.len() as f64;
        assert!((kept - 0.7).abs() < 0.01, "{kept}");
    }
}
