//! Per-output-row accumulators of every reduction family, lane-wise over packs.
//!
//! Each lane of a pack sees its own subsequence of the reduced index in increasing order, so lane-wise
//! strict comparisons keep the first index of ties; lanes are merged at the end with ties broken by index.
//! Sums: `Direct` keeps one running sum per lane, `Block` flushes the lanes into the row's accumulator
//! after each tile (in `f64` with [`crate::Accumulator::F64`], else rounded to the data type after each
//! flush), `Kahan` compensates each lane; `Direct` with an `f64` accumulator adds every term in `f64`.

use crate::{Pack, Real};

/// The state of one output row.
pub trait RowAcc<T: Real>: Send {
    /// Adds a full pack of terms (lanes `j0 .. j0 + LANES`); `out` holds the formula's packs.
    fn push(&mut self, out: &[T::Pack], j0: usize);
    /// Adds the first `n` lanes only.
    fn push_partial(&mut self, out: &[T::Pack], j0: usize, n: usize);
    /// Called after each tile of the reduced index.
    fn end_tile(&mut self) {}
    /// For plain lane sums: the lane accumulators, which [`crate::TileFormula::sum_packs`] adds into
    /// directly (the hot loop of `Sum`).
    fn sum_lanes(&mut self) -> Option<&mut [T::Pack]> {
        None
    }
    /// Writes the row's values and indices (`cols` each; unused ones are ignored by the caller).
    fn finish(&mut self, values: &mut [T], indices: &mut [usize]);
}

fn lanes<T: Real>() -> usize {
    <T::Pack as Pack>::LANES
}

/// Sum with one running sum per lane (`Direct`), or flushed per tile (`Block`).
pub struct SumLanes<T: Real, const BLOCK: bool> {
    lanes: Vec<T::Pack>,
    total: Vec<f64>,
    f64_total: bool,
}

impl<T: Real, const BLOCK: bool> SumLanes<T, BLOCK> {
    /// A zero sum of `dim` components; `f64_total`: flush into an `f64` accumulator.
    pub fn new(dim: usize, f64_total: bool) -> Self {
        SumLanes {
            lanes: vec![T::Pack::zero(); dim],
            total: vec![0.0; dim],
            f64_total,
        }
    }
    fn flush(&mut self) {
        for (t, l) in self.total.iter_mut().zip(&mut self.lanes) {
            if self.f64_total {
                *t += l.as_slice().iter().map(|v| v.to_f64()).sum::<f64>();
            } else {
                let h = l.as_slice().iter().fold(T::zero(), |a, &v| a + v);
                *t = (T::from_f64(*t) + h).to_f64();
            }
            *l = T::Pack::zero();
        }
    }
}

impl<T: Real, const BLOCK: bool> RowAcc<T> for SumLanes<T, BLOCK> {
    #[inline(always)]
    fn push(&mut self, out: &[T::Pack], _j0: usize) {
        for (a, x) in self.lanes.iter_mut().zip(out) {
            *a = a.add(*x);
        }
    }
    #[inline(always)]
    fn push_partial(&mut self, out: &[T::Pack], _j0: usize, n: usize) {
        for (a, x) in self.lanes.iter_mut().zip(out) {
            for l in 0..n {
                a.as_mut_slice()[l] += x.as_slice()[l];
            }
        }
    }
    fn end_tile(&mut self) {
        if BLOCK {
            self.flush();
        }
    }
    fn sum_lanes(&mut self) -> Option<&mut [T::Pack]> {
        Some(&mut self.lanes)
    }
    fn finish(&mut self, values: &mut [T], _indices: &mut [usize]) {
        self.flush();
        for (v, t) in values.iter_mut().zip(&self.total) {
            *v = T::from_f64(*t);
        }
    }
}

/// Sum with every term added in `f64` (per lane).
pub struct SumF64<T: Real> {
    lanes: Vec<f64>,
    _t: std::marker::PhantomData<T>,
}

impl<T: Real> SumF64<T> {
    /// A zero sum of `dim` components.
    pub fn new(dim: usize) -> Self {
        SumF64 {
            lanes: vec![0.0; dim * lanes::<T>()],
            _t: std::marker::PhantomData,
        }
    }
}

impl<T: Real> RowAcc<T> for SumF64<T> {
    #[inline(always)]
    fn push(&mut self, out: &[T::Pack], j0: usize) {
        self.push_partial(out, j0, lanes::<T>());
    }
    #[inline(always)]
    fn push_partial(&mut self, out: &[T::Pack], _j0: usize, n: usize) {
        let w = lanes::<T>();
        for (c, x) in out.iter().enumerate().take(self.lanes.len() / w) {
            let acc = &mut self.lanes[c * w..(c + 1) * w];
            for (a, v) in acc.iter_mut().zip(x.as_slice()).take(n) {
                *a += v.to_f64();
            }
        }
    }
    fn finish(&mut self, values: &mut [T], _indices: &mut [usize]) {
        let w = lanes::<T>();
        for (c, v) in values.iter_mut().enumerate() {
            *v = T::from_f64(self.lanes[c * w..(c + 1) * w].iter().sum());
        }
    }
}

/// Kahan-compensated sum per lane.
pub struct SumKahan<T: Real> {
    s: Vec<T::Pack>,
    c: Vec<T::Pack>,
}

impl<T: Real> SumKahan<T> {
    /// A zero sum of `dim` components.
    pub fn new(dim: usize) -> Self {
        SumKahan {
            s: vec![T::Pack::zero(); dim],
            c: vec![T::Pack::zero(); dim],
        }
    }
}

impl<T: Real> RowAcc<T> for SumKahan<T> {
    #[inline(always)]
    fn push(&mut self, out: &[T::Pack], _j0: usize) {
        for ((s, c), x) in self.s.iter_mut().zip(&mut self.c).zip(out) {
            let y = x.sub(*c);
            let t = s.add(y);
            *c = t.sub(*s).sub(y);
            *s = t;
        }
    }
    #[inline(always)]
    fn push_partial(&mut self, out: &[T::Pack], _j0: usize, n: usize) {
        for ((s, c), x) in self.s.iter_mut().zip(&mut self.c).zip(out) {
            for l in 0..n {
                let (sv, cv, xv) = (s.as_slice()[l], c.as_slice()[l], x.as_slice()[l]);
                let y = xv - cv;
                let t = sv + y;
                c.as_mut_slice()[l] = (t - sv) - y;
                s.as_mut_slice()[l] = t;
            }
        }
    }
    fn finish(&mut self, values: &mut [T], _indices: &mut [usize]) {
        for ((v, s), c) in values.iter_mut().zip(&self.s).zip(&self.c) {
            let tot: f64 = s
                .as_slice()
                .iter()
                .zip(c.as_slice())
                .map(|(s, c)| s.to_f64() - c.to_f64())
                .sum();
            *v = T::from_f64(tot);
        }
    }
}

/// Min (`MAX = false`) or max with the first index reaching it, per component.
pub struct Extremum<T: Real, const MAX: bool> {
    best: Vec<T::Pack>,
    idx: Vec<u32>,
}

impl<T: Real, const MAX: bool> Extremum<T, MAX> {
    /// The neutral state (`+inf` for min, `-inf` for max, index 0).
    pub fn new(dim: usize) -> Self {
        let init = if MAX {
            T::neg_infinity()
        } else {
            T::infinity()
        };
        Extremum {
            best: vec![T::Pack::splat(init); dim],
            idx: vec![0; dim * lanes::<T>()],
        }
    }
}

impl<T: Real, const MAX: bool> RowAcc<T> for Extremum<T, MAX> {
    #[inline(always)]
    fn push(&mut self, out: &[T::Pack], j0: usize) {
        self.push_partial(out, j0, lanes::<T>());
    }
    #[inline(always)]
    fn push_partial(&mut self, out: &[T::Pack], j0: usize, n: usize) {
        let w = lanes::<T>();
        for (c, (b, x)) in self.best.iter_mut().zip(out).enumerate() {
            let idx = &mut self.idx[c * w..(c + 1) * w];
            let (bs, xs) = (b.as_mut_slice(), x.as_slice());
            for l in 0..n {
                let better = if MAX { xs[l] > bs[l] } else { xs[l] < bs[l] };
                bs[l] = if better { xs[l] } else { bs[l] };
                idx[l] = if better { (j0 + l) as u32 } else { idx[l] };
            }
        }
    }
    fn finish(&mut self, values: &mut [T], indices: &mut [usize]) {
        let w = lanes::<T>();
        for (c, b) in self.best.iter().enumerate() {
            let (mut bv, mut bi) = (b.as_slice()[0], self.idx[c * w]);
            for l in 1..w {
                let (v, i) = (b.as_slice()[l], self.idx[c * w + l]);
                let better = if MAX { v > bv } else { v < bv };
                if better || (v == bv && i < bi) {
                    bv = v;
                    bi = i;
                }
            }
            values[c] = bv;
            indices[c] = bi as usize;
        }
    }
}

/// The K smallest values per component with their indices (insertion with strict `<`, so equal values
/// keep index order).
pub struct KMin<T: Real> {
    k: usize,
    vals: Vec<T>,
    idx: Vec<usize>,
}

impl<T: Real> KMin<T> {
    /// `k` slots of `+inf` (index 0) per component.
    pub fn new(dim: usize, k: usize) -> Self {
        KMin {
            k,
            vals: vec![T::infinity(); dim * k],
            idx: vec![0; dim * k],
        }
    }
    #[inline(always)]
    fn insert(&mut self, c: usize, v: T, j: usize) {
        let k = self.k;
        let vals = &mut self.vals[c * k..(c + 1) * k];
        // Only a value strictly below the largest kept one enters (NaN never does).
        if v.partial_cmp(&vals[k - 1]) != Some(std::cmp::Ordering::Less) {
            return;
        }
        let idx = &mut self.idx[c * k..(c + 1) * k];
        let mut p = k - 1;
        while p > 0 && v < vals[p - 1] {
            vals[p] = vals[p - 1];
            idx[p] = idx[p - 1];
            p -= 1;
        }
        vals[p] = v;
        idx[p] = j;
    }
}

impl<T: Real> RowAcc<T> for KMin<T> {
    #[inline(always)]
    fn push(&mut self, out: &[T::Pack], j0: usize) {
        self.push_partial(out, j0, lanes::<T>());
    }
    #[inline(always)]
    fn push_partial(&mut self, out: &[T::Pack], j0: usize, n: usize) {
        let dim = self.vals.len() / self.k;
        for l in 0..n {
            for (c, x) in out.iter().enumerate().take(dim) {
                self.insert(c, x.as_slice()[l], j0 + l);
            }
        }
    }
    fn finish(&mut self, values: &mut [T], indices: &mut [usize]) {
        let (k, dim) = (self.k, self.vals.len() / self.k);
        for c in 0..dim {
            for q in 0..k {
                values[q * dim + c] = self.vals[c * k + q];
                indices[q * dim + c] = self.idx[c * k + q];
            }
        }
    }
}

/// `LogSumExp` (weighted or not) and `SumSoftMaxWeight`: per lane a running max `m` and sums
/// `s_g = Σ exp(F - m) g`, `s_1 = Σ exp(F - m)`, rescaled when the max grows; `-inf` terms add nothing.
pub struct LogSumExp<T: Real> {
    m: T::Pack,
    s: Vec<T::Pack>,
    den: T::Pack,
    dim: usize,
    weighted: bool,
    softmax: bool,
}

impl<T: Real> LogSumExp<T> {
    /// Empty sums; `dim` is the formula's dimension (1), weights of dimension `dim2` follow it in the
    /// formula output when `weighted`.
    pub fn new(dim: usize, dim2: usize, weighted: bool, softmax: bool) -> Self {
        LogSumExp {
            m: T::Pack::splat(T::neg_infinity()),
            s: vec![T::Pack::zero(); dim2],
            den: T::Pack::zero(),
            dim,
            weighted,
            softmax,
        }
    }

    #[inline(always)]
    fn lane(&mut self, out: &[T::Pack], l: usize) {
        let x = out[0].as_slice()[l];
        let m = self.m.as_slice()[l];
        if x == T::neg_infinity() {
            return;
        }
        let bigger = x > m;
        let d = if bigger { m - x } else { x - m };
        let e = d.exp();
        for (g, s) in self.s.iter_mut().enumerate() {
            let w = if self.weighted {
                out[self.dim + g].as_slice()[l]
            } else {
                T::one()
            };
            let sv = s.as_slice()[l];
            s.as_mut_slice()[l] = if bigger { sv * e + w } else { sv + w * e };
        }
        let dv = self.den.as_slice()[l];
        self.den.as_mut_slice()[l] = if bigger { dv * e + T::one() } else { dv + e };
        self.m.as_mut_slice()[l] = if bigger { x } else { m };
    }
}

impl<T: Real> RowAcc<T> for LogSumExp<T> {
    #[inline(always)]
    fn push(&mut self, out: &[T::Pack], j0: usize) {
        self.push_partial(out, j0, lanes::<T>());
    }
    #[inline(always)]
    fn push_partial(&mut self, out: &[T::Pack], _j0: usize, n: usize) {
        for l in 0..n {
            self.lane(out, l);
        }
    }
    fn finish(&mut self, values: &mut [T], _indices: &mut [usize]) {
        let m = self
            .m
            .as_slice()
            .iter()
            .fold(f64::NEG_INFINITY, |a, &v| a.max(v.to_f64()));
        let scale: Vec<f64> = self
            .m
            .as_slice()
            .iter()
            .map(|&ml| {
                if ml == T::neg_infinity() {
                    0.0
                } else {
                    (ml.to_f64() - m).exp()
                }
            })
            .collect();
        let tot = |p: &T::Pack| -> f64 {
            p.as_slice()
                .iter()
                .zip(&scale)
                .map(|(v, s)| v.to_f64() * s)
                .sum()
        };
        let den = tot(&self.den);
        for (v, s) in values.iter_mut().zip(&self.s) {
            let sg = tot(s);
            *v = T::from_f64(if self.softmax { sg / den } else { m + sg.ln() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extremum_merges_lanes_with_lowest_index_on_ties() {
        let mut a = Extremum::<f64, false>::new(1);
        let mut p = <f64 as Real>::Pack::splat(5.0);
        p.0[3] = 1.0;
        p.0[1] = 1.0;
        a.push(&[p], 0);
        let mut q = <f64 as Real>::Pack::splat(7.0);
        q.0[0] = 1.0;
        a.push(&[q], 8);
        let (mut v, mut i) = ([0.0], [0]);
        a.finish(&mut v, &mut i);
        assert_eq!((v[0], i[0]), (1.0, 1));
    }

    #[test]
    fn kmin_keeps_index_order_for_equal_values() {
        let mut a = KMin::<f32>::new(1, 3);
        let mut p = <f32 as Real>::Pack::splat(9.0);
        p.0[2] = 1.0;
        p.0[5] = 1.0;
        p.0[7] = 0.5;
        a.push_partial(&[p], 0, 10);
        let (mut v, mut i) = ([0.0; 3], [0; 3]);
        a.finish(&mut v, &mut i);
        assert_eq!(v, [0.5, 1.0, 1.0]);
        assert_eq!(i, [7, 2, 5]);
    }

    #[test]
    fn logsumexp_is_stable_and_skips_neg_inf() {
        let mut a = LogSumExp::<f64>::new(1, 1, false, false);
        let mut p = <f64 as Real>::Pack::splat(f64::NEG_INFINITY);
        p.0[0] = 1000.0;
        p.0[1] = 1000.0;
        a.push(&[p], 0);
        let (mut v, mut i) = ([0.0], [0]);
        a.finish(&mut v, &mut i);
        assert!((v[0] - (1000.0 + 2f64.ln())).abs() < 1e-12);
    }

    #[test]
    fn kahan_recovers_small_terms() {
        let mut a = SumKahan::<f32>::new(1);
        let mut p = <f32 as Real>::Pack::zero();
        p.0[0] = 1.0;
        a.push(&[p], 0);
        let mut small = <f32 as Real>::Pack::zero();
        small.0[0] = 1e-8;
        for _ in 0..1000 {
            a.push(&[small], 0);
        }
        let (mut v, mut i) = ([0.0f32], [0]);
        a.finish(&mut v, &mut i);
        assert!((v[0] as f64 - (1.0 + 1e-5)).abs() < 1e-7);
    }
}
