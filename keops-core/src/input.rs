//! `Input<T>`: everything a kernel accepts as an argument.

use ndarray::{Array1, Array2, ArrayView2};

use crate::Real;

/// An argument of a kernel call: an `n × d` block of rows (`Vi`, `Vj`) or a `d`-vector (`Pm`).
///
/// Implemented for `&Array2<T>`, `ArrayView2<T>`, `&[[T; D]]` (rows), `&[T]`, `&Vec<T>` and
/// `&Array1<T>` (one row: parameters). Shapes are checked against the aliases at call time
/// (`Error::Shape`).
///
/// ```
/// use keops_core::Input;
/// use ndarray::array;
/// let pts = [[0.0f64, 1.0, 2.0], [3.0, 4.0, 5.0]];
/// assert_eq!((&pts[..]).view().dim(), (2, 3));
/// let p = [0.5f32, 2.0];
/// assert_eq!((&p[..]).view().dim(), (1, 2));
/// assert_eq!((&array![[1.0f64]]).view().dim(), (1, 1));
/// ```
pub trait Input<T: Real> {
    /// The data as a 2-D view (`rows × cols`).
    fn view(&self) -> ArrayView2<'_, T>;
}

impl<T: Real> Input<T> for &Array2<T> {
    fn view(&self) -> ArrayView2<'_, T> {
        (*self).view()
    }
}

impl<T: Real> Input<T> for ArrayView2<'_, T> {
    fn view(&self) -> ArrayView2<'_, T> {
        self.reborrow()
    }
}

impl<T: Real> Input<T> for &ArrayView2<'_, T> {
    fn view(&self) -> ArrayView2<'_, T> {
        (*self).reborrow()
    }
}

impl<T: Real, const D: usize> Input<T> for &[[T; D]] {
    fn view(&self) -> ArrayView2<'_, T> {
        ArrayView2::from_shape((self.len(), D), self.as_flattened())
            .expect("rows × D matches the slice")
    }
}

impl<T: Real> Input<T> for &[T] {
    fn view(&self) -> ArrayView2<'_, T> {
        ArrayView2::from_shape((1, self.len()), self).expect("1 × len matches the slice")
    }
}

impl<T: Real> Input<T> for &Vec<T> {
    fn view(&self) -> ArrayView2<'_, T> {
        ArrayView2::from_shape((1, self.len()), self.as_slice()).expect("1 × len matches the slice")
    }
}

impl<T: Real> Input<T> for &Array1<T> {
    fn view(&self) -> ArrayView2<'_, T> {
        (*self).view().insert_axis(ndarray::Axis(0))
    }
}
