//! `h += x * row` for one table row of the bag, per storage precision: a portable loop and an AVX2
//! loop that give the same bits. Each element is one multiply and one add, rounded separately (no
//! fused multiply-add) in element order, and int8 and f16 widen to f32 exactly, so both loops
//! compute the same thing; the AVX2 loop does it eight elements at a time.

use half::f16;

/// `h[i] += x * row[i]` over f32 rows.
#[inline]
pub fn f32(h: &mut [f32], row: &[f32], x: f32, simd: bool) {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: `simd` is set only for kernels that require AVX2 (checked when the scorer is built).
        return unsafe { avx2::f32(h, row, x) };
    }
    let _ = simd;
    h.iter_mut().zip(row).for_each(|(a, &w)| *a += x * w);
}

/// `h[i] += x * row[i]` over f16 rows (widened to f32 exactly).
#[inline]
pub fn f16(h: &mut [f32], row: &[f16], x: f32, simd: bool) {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: as in `f32` (the AVX2 kernels also require F16C).
        return unsafe { avx2::f16(h, row, x) };
    }
    let _ = simd;
    h.iter_mut().zip(row).for_each(|(a, &w)| *a += x * w.to_f32());
}

/// `h[i] += x * row[i]` over int8 rows (`x` already times the row's scale).
#[inline]
pub fn i8(h: &mut [f32], row: &[i8], x: f32, simd: bool) {
    #[cfg(target_arch = "x86_64")]
    if simd {
        // SAFETY: as in `f32`.
        return unsafe { avx2::i8(h, row, x) };
    }
    let _ = simd;
    h.iter_mut().zip(row).for_each(|(a, &w)| *a += x * f32::from(w));
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use half::f16;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2")]
    pub unsafe fn f32(h: &mut [f32], row: &[f32], x: f32) {
        let n = h.len().min(row.len());
        let xv = _mm256_set1_ps(x);
        let mut i = 0;
        while i + 8 <= n {
            let w = _mm256_loadu_ps(row.as_ptr().add(i));
            let a = _mm256_loadu_ps(h.as_ptr().add(i));
            _mm256_storeu_ps(h.as_mut_ptr().add(i), _mm256_add_ps(a, _mm256_mul_ps(xv, w)));
            i += 8;
        }
        h[i..n].iter_mut().zip(&row[i..n]).for_each(|(a, &w)| *a += x * w);
    }

    #[target_feature(enable = "avx2,f16c")]
    pub unsafe fn f16(h: &mut [f32], row: &[f16], x: f32) {
        let n = h.len().min(row.len());
        let xv = _mm256_set1_ps(x);
        let mut i = 0;
        while i + 8 <= n {
            let w = _mm256_cvtph_ps(_mm_loadu_si128(row.as_ptr().add(i).cast()));
            let a = _mm256_loadu_ps(h.as_ptr().add(i));
            _mm256_storeu_ps(h.as_mut_ptr().add(i), _mm256_add_ps(a, _mm256_mul_ps(xv, w)));
            i += 8;
        }
        h[i..n].iter_mut().zip(&row[i..n]).for_each(|(a, &w)| *a += x * w.to_f32());
    }

    #[target_feature(enable = "avx2")]
    pub unsafe fn i8(h: &mut [f32], row: &[i8], x: f32) {
        let n = h.len().min(row.len());
        let xv = _mm256_set1_ps(x);
        let mut i = 0;
        while i + 8 <= n {
            let w = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(row.as_ptr().add(i).cast())));
            let a = _mm256_loadu_ps(h.as_ptr().add(i));
            _mm256_storeu_ps(h.as_mut_ptr().add(i), _mm256_add_ps(a, _mm256_mul_ps(xv, w)));
            i += 8;
        }
        h[i..n].iter_mut().zip(&row[i..n]).for_each(|(a, &w)| *a += x * f32::from(w));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn the_avx2_loops_give_the_portable_bits() {
        if !crate::cpu::Kernel::Avx2.supported() {
            eprintln!("skip: no AVX2 on this host");
            return;
        }
        let mut rng = Rng::new(3);
        for n in [1, 7, 8, 9, 31, 64, 67] {
            let x = rng.uniform() * 3.0 - 1.5;
            let base: Vec<f32> = (0..n).map(|_| rng.uniform() * 2.0 - 1.0).collect();
            let wf: Vec<f32> = (0..n).map(|_| rng.uniform() * 2.0 - 1.0).collect();
            let wh: Vec<f16> = wf.iter().map(|&v| f16::from_f32(v)).collect();
            let wq: Vec<i8> = (0..n).map(|_| (rng.next_u64() % 255) as i8).collect();
            let run = |f: &dyn Fn(&mut [f32], bool)| {
                let (mut a, mut b) = (base.clone(), base.clone());
                f(&mut a, false);
                f(&mut b, true);
                assert_eq!(
                    a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    b.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "n = {n}"
                );
            };
            run(&|h, simd| f32(h, &wf, x, simd));
            run(&|h, simd| f16(h, &wh, x, simd));
            run(&|h, simd| i8(h, &wq, x, simd));
        }
    }
}
