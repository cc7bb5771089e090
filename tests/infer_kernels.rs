//! Every kernel this CPU supports against the scalar reference and against a naive forward pass written
//! here from the unpacked layers: int8 bit for bit, f32/f16 within 1e-5 of an f64 reference (the
//! `avx512fp16` f16 path, which multiplies in half precision, within [`FP16_TOL`]). Each test prints the
//! kernels it ran, so a log shows which paths a host verified (AMX and AVX512-FP16 only run where the
//! CPU has them; the others still build and pass).

use l2core::infer::quantize::quantize_layers;
use l2core::infer::{Kernel, Scorer};
use l2core::model::{Layer, LayerWeights, Mlp, Precision};
use l2core::nn::sigmoid;
use l2core::rng::Rng;

/// Tolerance of the f32 / f16 kernels against the f64 reference of the same weights (scores in [0, 1]).
const FLOAT_TOL: f64 = 1e-5;
/// Tolerance of the opt-in `avx512fp16` f16 path, which rounds activations to half and sums 32
/// products at a time in half precision (`src/infer/kernels/fp16.rs`).
const FP16_TOL: f64 = 5e-3;

fn net(dims: usize, hidden: &[usize], seed: u64) -> Vec<Layer> {
    let mut mlp = Mlp::init(dims, hidden, seed).unwrap();
    let mut rng = Rng::new(seed ^ 0xb1a5);
    for l in &mut mlp.layers {
        l.bias.iter_mut().for_each(|b| *b = 0.1 * rng.normal());
    }
    mlp.to_layers()
}

fn inputs(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let mut x: Vec<f32> = (0..n * d).map(|_| rng.normal()).collect();
    // Some rows all zero, some with one huge value: the edge cases of per-row scaling.
    if n > 2 {
        x[d..2 * d].fill(0.0);
        x[2 * d] = 50.0;
    }
    x
}

/// Input and hidden widths that are not multiples of 4, 16 or 64 (partial blocks, panels and tiles).
const SHAPES: &[(usize, &[usize])] =
    &[(512, &[256, 128, 64]), (37, &[20, 5]), (3, &[]), (100, &[33, 17]), (130, &[65, 9]), (64, &[48])];
/// Batch sizes around the tile heights (6, 16, 32) and the chunk of 96 rows.
const BATCHES: &[usize] = &[1, 2, 3, 5, 7, 16, 17, 96, 97, 203, 300];

fn ran(test: &str) {
    let names: Vec<_> = Kernel::available().iter().map(|k| k.as_str()).collect();
    eprintln!("{test}: ran kernels {}", names.join(", "));
}

/// The int8 forward pass straight from the documented arithmetic, on unpacked row-major layers.
fn naive_int8(layers: &[Layer], x: &[f32]) -> f32 {
    let mut cur = x.to_vec();
    for (li, l) in layers.iter().enumerate() {
        let LayerWeights::Int8 { q, scale } = &l.weights else { panic!("not int8") };
        let amax = cur.iter().fold(0f32, |a, v| a.max(v.abs()));
        let (s, inv) = if amax > 0.0 { (amax / 127.0, 127.0 / amax) } else { (0.0, 0.0) };
        let qx: Vec<i32> = cur.iter().map(|&v| (v * inv).round_ties_even().clamp(-127.0, 127.0) as i32).collect();
        let mut next = vec![0f32; l.outputs];
        for (o, y) in next.iter_mut().enumerate() {
            let acc: i32 = (0..l.inputs).map(|i| qx[i] * i32::from(q[o * l.inputs + i])).sum();
            *y = (acc as f32) * (scale[o] * s) + l.bias[o];
            if li + 1 < layers.len() {
                *y = y.max(0.0);
            }
        }
        cur = next;
    }
    sigmoid(cur[0])
}

fn naive_float(layers: &[Layer], x: &[f32]) -> f64 {
    let mut cur: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    for (li, l) in layers.iter().enumerate() {
        let w: Vec<f64> = match &l.weights {
            LayerWeights::F32(w) => w.iter().map(|&v| f64::from(v)).collect(),
            LayerWeights::F16(w) => w.iter().map(|v| f64::from(v.to_f32())).collect(),
            LayerWeights::Int8 { .. } => panic!("not float"),
        };
        let next: Vec<f64> = (0..l.outputs)
            .map(|o| {
                let y = f64::from(l.bias[o]) + (0..l.inputs).map(|i| w[o * l.inputs + i] * cur[i]).sum::<f64>();
                if li + 1 < layers.len() {
                    y.max(0.0)
                } else {
                    y
                }
            })
            .collect();
        cur = next;
    }
    1.0 / (1.0 + (-cur[0]).exp())
}

fn scores(s: &Scorer, x: &[f32]) -> Vec<f32> {
    let mut out = vec![0f32; x.len() / s.input_dims()];
    s.score_into(x, &mut out).unwrap();
    out
}

#[test]
fn host_kernels_are_listed_and_scalar_is_always_there() {
    let avail = Kernel::available();
    assert!(avail.contains(&Kernel::Scalar));
    eprintln!("kernels on this host: {avail:?}; detected {}", Kernel::detect());
    assert_eq!(Kernel::detect(), avail[0]);
    assert_ne!(Kernel::detect(), Kernel::Avx512Fp16, "the half-precision path is opt-in");
}

#[test]
fn int8_paths_are_bit_identical_to_each_other_and_to_the_naive_pass() {
    ran("int8");
    for (si, &(dims, hidden)) in SHAPES.iter().enumerate() {
        let layers = quantize_layers(&net(dims, hidden, 11 + si as u64), Precision::Int8).unwrap();
        let reference = Scorer::with_kernel(&layers, Kernel::Scalar).unwrap();
        for &n in BATCHES {
            let x = inputs(n, dims, 100 + n as u64);
            let want = scores(&reference, &x);
            for (r, &w) in want.iter().enumerate() {
                let naive = naive_int8(&layers, &x[r * dims..(r + 1) * dims]);
                assert_eq!(w.to_bits(), naive.to_bits(), "scalar vs naive, shape {dims}{hidden:?} n={n} row {r}");
            }
            for k in Kernel::available() {
                let s = Scorer::with_kernel(&layers, k).unwrap();
                let got = scores(&s, &x);
                for (r, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(
                        g.to_bits(),
                        w.to_bits(),
                        "{k} vs scalar, shape {dims}{hidden:?} n={n} row {r}: {g} vs {w}"
                    );
                }
                let one = s.score_one(&x[..dims]).unwrap();
                assert_eq!(one.to_bits(), want[0].to_bits(), "{k} score_one");
            }
        }
    }
}

#[test]
fn float_paths_agree_with_the_f64_reference_within_tolerance() {
    ran("f32/f16");
    for (si, &(dims, hidden)) in SHAPES.iter().enumerate() {
        let f32_layers = net(dims, hidden, 21 + si as u64);
        for precision in [Precision::F32, Precision::F16] {
            let layers = quantize_layers(&f32_layers, precision).unwrap();
            for &n in BATCHES {
                let x = inputs(n, dims, 200 + n as u64);
                let want: Vec<f64> = x.chunks(dims).map(|row| naive_float(&layers, row)).collect();
                for k in Kernel::available() {
                    let s = Scorer::with_kernel(&layers, k).unwrap();
                    assert_eq!(s.precision(), precision);
                    let got = scores(&s, &x);
                    let worst = got.iter().zip(&want).map(|(g, w)| (f64::from(*g) - w).abs()).fold(0.0, f64::max);
                    if k == Kernel::Avx512Fp16 && precision == Precision::F16 {
                        eprintln!("avx512fp16 f16 shape {dims}{hidden:?} n={n}: max |diff| {worst:.2e}");
                    }
                    let half = precision == Precision::F16 && k == Kernel::Avx512Fp16;
                    let tol = if half { FP16_TOL } else { FLOAT_TOL };
                    for (r, (g, w)) in got.iter().zip(&want).enumerate() {
                        let d = (f64::from(*g) - w).abs();
                        assert!(d <= tol, "{precision} {k} shape {dims}{hidden:?} n={n} row {r}: {g} vs {w} ({d})");
                    }
                }
            }
        }
    }
}

#[test]
fn quantized_scores_stay_close_to_f32() {
    let f32_layers = net(512, &[256, 128, 64], 5);
    let x = inputs(300, 512, 9);
    let base = scores(&Scorer::new(&f32_layers).unwrap(), &x);
    for (precision, tol) in [(Precision::F16, 1e-3f32), (Precision::Int8, 0.05)] {
        let q = Scorer::new(&quantize_layers(&f32_layers, precision).unwrap()).unwrap();
        let got = scores(&q, &x);
        let worst = got.iter().zip(&base).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < tol, "{precision}: max |diff| {worst} >= {tol}");
        assert!(worst > 0.0, "{precision}: identical to f32 means the quantization did nothing");
    }
}

#[test]
fn threaded_scoring_matches_single_thread() {
    let layers = quantize_layers(&net(64, &[32], 3), Precision::Int8).unwrap();
    let s = Scorer::new(&layers).unwrap();
    let x = inputs(1000, 64, 4);
    let one = scores(&s, &x);
    let mut par = vec![0f32; 1000];
    s.score_into_threads(&x, &mut par, 3).unwrap();
    assert_eq!(one, par);
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let s = Scorer::new(&net(8, &[4], 1)).unwrap();
    let mut out = [0f32; 2];
    assert!(s.score_into(&[0.0; 15], &mut out).is_err());
    assert!(s.score_into(&[0.0; 8], &mut out).is_err());
    assert!(s.score_one(&[0.0; 7]).is_err());
    let mut x = [0.5f32; 8];
    x[3] = f32::NAN;
    let e = s.score_one(&x).unwrap_err().to_string();
    assert!(e.contains("column 3"), "{e}");
    x[3] = f32::INFINITY;
    assert!(s.score_one(&x).is_err());

    let mut layers = quantize_layers(&net(8, &[4], 1), Precision::Int8).unwrap();
    if let LayerWeights::Int8 { q, .. } = &mut layers[0].weights {
        q[0] = -128;
    }
    assert!(Scorer::new(&layers).unwrap_err().to_string().contains("-128"));
    let mut mixed = net(8, &[4], 1);
    mixed[1] = quantize_layers(&mixed[1..], Precision::F16).unwrap().remove(0);
    assert!(Scorer::new(&mixed).is_err());
}

#[test]
fn kernel_names_parse_and_missing_paths_are_errors() {
    for k in Kernel::ALL {
        assert_eq!(k.as_str().parse::<Kernel>().unwrap(), k);
        assert_eq!(k.require().is_ok(), k.supported());
        let layers = net(8, &[4], 1);
        match Scorer::with_kernel(&layers, k) {
            Ok(s) => assert!(k.supported() && s.kernel() == k),
            Err(e) => assert!(!k.supported() && e.to_string().contains(k.as_str()), "{e}"),
        }
    }
    assert!("sse9".parse::<Kernel>().is_err());
}

#[test]
fn scorer_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Scorer>();
    assert_send_sync::<l2core::Model>();
}
