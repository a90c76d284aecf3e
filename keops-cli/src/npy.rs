//! Reading and writing `.npy` files (through `ndarray-npy`), with clear errors and no panics.
//!
//! A file is read whole into memory and checked before any array is allocated: `ndarray-npy`'s
//! `read_npy` allocates the element count announced by the header before reading the data, so a
//! corrupted header announcing 10¹² elements would abort the process. Viewing the bytes first
//! (`view_npy`) checks the data length against the header without allocating.

use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use ndarray::{Array2, ArrayD, ArrayViewD, Axis, Ix0, Ix1, Ix2};
use ndarray_npy::{
    ReadNpyExt, ReadableElement, ViewElement, ViewNpyError, ViewNpyExt, WritableElement,
};

use crate::error::{Failure, input};

/// The element type of an array: the CLI computes in `f32` or `f64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Dtype {
    /// 32-bit floats (numpy `float32`, `<f4`).
    F32,
    /// 64-bit floats (numpy `float64`, `<f8`).
    F64,
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
        })
    }
}

/// The array of a `.npy` file, in the file's own element type.
#[derive(Clone, Debug)]
pub enum Data {
    /// A `float32` file.
    F32(ArrayD<f32>),
    /// A `float64` file.
    F64(ArrayD<f64>),
}

impl Data {
    /// The file's element type.
    pub fn dtype(&self) -> Dtype {
        match self {
            Data::F32(_) => Dtype::F32,
            Data::F64(_) => Dtype::F64,
        }
    }

    /// The file's shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Data::F32(a) => a.shape(),
            Data::F64(a) => a.shape(),
        }
    }
}

/// A scalar type the CLI computes in: `f32` or `f64`.
pub trait Float: keops_core::Real + WritableElement {
    /// The matching [`Dtype`].
    const DTYPE: Dtype;
    /// The array converted to this type (rounding `f64` to `f32` when needed).
    fn convert(data: Data) -> ArrayD<Self>;
}

impl Float for f32 {
    const DTYPE: Dtype = Dtype::F32;
    fn convert(data: Data) -> ArrayD<f32> {
        match data {
            Data::F32(a) => a,
            Data::F64(a) => a.mapv(|v| v as f32),
        }
    }
}

impl Float for f64 {
    const DTYPE: Dtype = Dtype::F64;
    fn convert(data: Data) -> ArrayD<f64> {
        match data {
            Data::F32(a) => a.mapv(f64::from),
            Data::F64(a) => a,
        }
    }
}

/// Reads a `float32` or `float64` `.npy` file of any rank, C or Fortran order, either byte order.
///
/// Every failure is an input error (exit code 2) naming the file: missing or unreadable, not a `.npy`
/// file, truncated, trailing bytes, another element type.
pub fn read(path: &Path) -> Result<Data, Failure> {
    let show = path.display();
    let bytes = std::fs::read(path).map_err(|e| input(format!("cannot read `{show}`: {e}")))?;
    let res = match load::<f64>(&bytes) {
        Err(ViewNpyError::WrongDescriptor(_)) => load::<f32>(&bytes).map(Data::F32),
        other => other.map(Data::F64),
    };
    res.map_err(|e| input(describe(path, e)))
}

/// The message for a file `ndarray-npy` could not take.
fn describe(path: &Path, e: ViewNpyError) -> String {
    let show = path.display();
    match e {
        ViewNpyError::WrongDescriptor(d) => {
            format!(
                "`{show}` holds elements of type {d}: expected float32 ('<f4') or float64 ('<f8')"
            )
        }
        ViewNpyError::MissingBytes(n) => {
            format!(
                "`{show}` is truncated: the data is {n} byte(s) shorter than its header announces"
            )
        }
        ViewNpyError::ExtraBytes(n) => {
            format!(
                "`{show}` is not a valid .npy file: {n} byte(s) follow the data its header announces"
            )
        }
        ViewNpyError::Io(io) if io.kind() == ErrorKind::UnexpectedEof => {
            format!("`{show}` is truncated: the .npy header is cut short")
        }
        ViewNpyError::ParseHeader(h) => format!("`{show}` is not a valid .npy file: {h}"),
        ViewNpyError::LengthOverflow => {
            format!("`{show}` is not a valid .npy file: the shape in its header is too large")
        }
        other => format!("`{show}` is not a valid .npy file: {other}"),
    }
}

/// Checks the bytes of a `.npy` file against its header and copies out the array.
fn load<A>(bytes: &[u8]) -> Result<ArrayD<A>, ViewNpyError>
where
    A: ViewElement + ReadableElement + Clone,
{
    match ArrayViewD::<A>::view_npy(bytes) {
        Ok(v) => Ok(v.to_owned()),
        Err(ViewNpyError::MisalignedData) => {
            // The length is already checked (it comes first); copy to a buffer where the data is aligned.
            let align = std::mem::align_of::<A>();
            for shift in 1..align {
                let mut buf = vec![0u8; shift];
                buf.extend_from_slice(bytes);
                match ArrayViewD::<A>::view_npy(&buf[shift..]) {
                    Err(ViewNpyError::MisalignedData) => continue,
                    other => return other.map(|v| v.to_owned()),
                }
            }
            read_checked(bytes)
        }
        Err(ViewNpyError::NonNativeEndian) => {
            // `view_npy` refuses the other byte order before checking the length: check it on a copy whose
            // header claims the native order, then let `read_npy` swap the bytes.
            let mut patched = bytes.to_vec();
            flip_byte_order_mark(&mut patched);
            match ArrayViewD::<A>::view_npy(&patched) {
                Ok(_) | Err(ViewNpyError::MisalignedData) => read_checked(bytes),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// `read_npy` on bytes whose length has been checked against the header.
fn read_checked<A: ReadableElement>(bytes: &[u8]) -> Result<ArrayD<A>, ViewNpyError> {
    ArrayD::<A>::read_npy(bytes).map_err(|e| ViewNpyError::Io(std::io::Error::other(e.to_string())))
}

/// Replaces the non-native byte-order mark of the descriptor (`'>f8'` on little-endian machines) by the
/// native one in the header, leaving the data alone.
fn flip_byte_order_mark(bytes: &mut [u8]) {
    let (from, to) = if cfg!(target_endian = "little") {
        (b'>', b'<')
    } else {
        (b'<', b'>')
    };
    let end = header_end(bytes).min(bytes.len());
    for k in 0..end.saturating_sub(2) {
        if matches!(bytes[k], b'\'' | b'"') && bytes[k + 1] == from && bytes[k + 2] == b'f' {
            bytes[k + 1] = to;
            return;
        }
    }
}

/// Where the data of a `.npy` file starts according to its preamble (magic, version, header length).
fn header_end(bytes: &[u8]) -> usize {
    match bytes.get(6) {
        Some(1) => bytes
            .get(8..10)
            .map_or(0, |b| 10 + usize::from(u16::from_le_bytes([b[0], b[1]]))),
        Some(_) => bytes.get(8..12).map_or(0, |b| {
            12 + usize::try_from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .unwrap_or(usize::MAX - 12)
        }),
        None => 0,
    }
}

/// How a 1-D (or 0-D) array becomes a matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vector {
    /// As one row (a parameter `Pm`: `(D,)` → 1 × D).
    Row,
    /// As one column (a `Vi`/`Vj` variable of dimension 1: `(N,)` → N × 1).
    Column,
}

/// The array as a matrix: 2-D as is, 1-D as a row or a column, 0-D as 1 × 1; more dimensions are an
/// input error naming the file.
pub fn to_matrix<T: Clone>(
    a: ArrayD<T>,
    as_vector: Vector,
    path: &Path,
) -> Result<Array2<T>, Failure> {
    let shape = a.shape().to_vec();
    let bad = || {
        input(format!(
            "`{}` has {} dimensions (shape {shape:?}): expected a 2-D array (1-D for a `Pm` parameter or a \
             `Vi`/`Vj` variable of dimension 1)",
            path.display(),
            shape.len()
        ))
    };
    match a.ndim() {
        2 => a.into_dimensionality::<Ix2>().map_err(|_| bad()),
        1 => {
            let v = a.into_dimensionality::<Ix1>().map_err(|_| bad())?;
            Ok(match as_vector {
                Vector::Row => v.insert_axis(Axis(0)),
                Vector::Column => v.insert_axis(Axis(1)),
            })
        }
        0 => Ok(a
            .into_dimensionality::<Ix0>()
            .map_err(|_| bad())?
            .insert_axis(Axis(0))
            .insert_axis(Axis(0))),
        _ => Err(bad()),
    }
}

/// Writes a matrix as a `.npy` file (C order, native byte order); a failure is an input error naming the
/// file.
pub fn write<T: WritableElement>(path: &Path, a: &Array2<T>) -> Result<(), Failure> {
    ndarray_npy::write_npy(path, a)
        .map_err(|e| input(format!("cannot write `{}`: {e}", path.display())))
}

/// Writes indices as an `int64` `.npy` file.
pub fn write_indices(path: &Path, idx: &Array2<usize>) -> Result<(), Failure> {
    let as_i64 = idx.mapv(|i| i64::try_from(i).unwrap_or(i64::MAX));
    write(path, &as_i64)
}

/// The companion path of the indices of a value+index reduction: `out.npy` → `out.indices.npy`.
pub fn indices_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".npy").unwrap_or(&name);
    out.with_file_name(format!("{stem}.indices.npy"))
}
