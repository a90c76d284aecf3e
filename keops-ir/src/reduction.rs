//! The reductions of KeOps 2.3 and what they return.

use std::fmt;

/// A reduction `out_i = Red_j F(x_i, y_j)` (or over i). All but `LogSumExp` and `SumSoftMaxWeight` act on
/// each of the formula's D components independently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// `Σ_j F`, output D.
    Sum,
    /// `min_j F` per component (NaN terms skipped), output D.
    Min,
    /// `max_j F` per component, output D.
    Max,
    /// Index of the first minimum per component.
    ArgMin,
    /// Index of the first maximum per component.
    ArgMax,
    /// Values and indices of the minimum.
    MinArgMin,
    /// Values and indices of the maximum.
    MaxArgMax,
    /// The K smallest values per component, ascending: output K·D, k-major (`out[k·D + d]`).
    KMin(usize),
    /// Indices of the K smallest values (ties by index).
    ArgKMin(usize),
    /// Values and indices of the K smallest.
    KMinArgKMin(usize),
    /// `log Σ_j exp F` for a scalar F; with a weight formula g: `log Σ_j exp(F) g_j`, output D(g).
    LogSumExp,
    /// `Σ_j exp(F) g_j / Σ_j exp(F)` for a scalar F and weights g (`formula2`), output D(g).
    SumSoftMaxWeight,
}

/// What a reduction hands back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// Values only.
    Values,
    /// Indices only.
    Indices,
    /// Values and indices.
    ValuesIndices,
}

impl Reduction {
    /// Every reduction (with K = 2 for the K family), for table-driven tests.
    pub const ALL: [Reduction; 12] = [
        Reduction::Sum,
        Reduction::Min,
        Reduction::Max,
        Reduction::ArgMin,
        Reduction::ArgMax,
        Reduction::MinArgMin,
        Reduction::MaxArgMax,
        Reduction::KMin(2),
        Reduction::ArgKMin(2),
        Reduction::KMinArgKMin(2),
        Reduction::LogSumExp,
        Reduction::SumSoftMaxWeight,
    ];

    /// The reduction named as in pykeops (`"Sum"`, `"Min_ArgMin"`, `"KMin"`, `"SoftMax"`, ...); `k` is the
    /// K of the K family (`opt_arg`).
    pub fn from_name(name: &str, k: Option<usize>) -> Option<Reduction> {
        Some(match (name, k) {
            ("Sum", None) => Reduction::Sum,
            ("Min", None) => Reduction::Min,
            ("Max", None) => Reduction::Max,
            ("ArgMin", None) => Reduction::ArgMin,
            ("ArgMax", None) => Reduction::ArgMax,
            ("Min_ArgMin" | "MinArgMin", None) => Reduction::MinArgMin,
            ("Max_ArgMax" | "MaxArgMax", None) => Reduction::MaxArgMax,
            ("KMin", Some(k)) => Reduction::KMin(k),
            ("ArgKMin", Some(k)) => Reduction::ArgKMin(k),
            ("KMin_ArgKMin" | "KMinArgKMin", Some(k)) => Reduction::KMinArgKMin(k),
            ("LogSumExp", None) => Reduction::LogSumExp,
            ("SumSoftMaxWeight" | "SoftMax", None) => Reduction::SumSoftMaxWeight,
            _ => return None,
        })
    }

    /// Names accepted by [`Reduction::from_name`], for error messages.
    pub const NAMES: &'static [&'static str] = &[
        "Sum",
        "Min",
        "Max",
        "ArgMin",
        "ArgMax",
        "Min_ArgMin",
        "Max_ArgMax",
        "KMin",
        "ArgKMin",
        "KMin_ArgKMin",
        "LogSumExp",
        "SumSoftMaxWeight",
    ];

    /// The K of the K family.
    pub fn k(&self) -> Option<usize> {
        match *self {
            Reduction::KMin(k) | Reduction::ArgKMin(k) | Reduction::KMinArgKMin(k) => Some(k),
            _ => None,
        }
    }

    /// Values, indices, or both.
    pub fn output_kind(&self) -> OutputKind {
        match self {
            Reduction::ArgMin | Reduction::ArgMax | Reduction::ArgKMin(_) => OutputKind::Indices,
            Reduction::MinArgMin | Reduction::MaxArgMax | Reduction::KMinArgKMin(_) => {
                OutputKind::ValuesIndices
            }
            _ => OutputKind::Values,
        }
    }

    /// Whether it needs an index to compare (errors on empty reduced sides).
    pub fn has_indices(&self) -> bool {
        self.output_kind() != OutputKind::Values
    }

    /// Columns of the output for a formula of dimension `dim` and weights of dimension `dim2`.
    pub fn out_cols(&self, dim: usize, dim2: usize) -> usize {
        match *self {
            Reduction::KMin(k) | Reduction::ArgKMin(k) | Reduction::KMinArgKMin(k) => k * dim,
            Reduction::LogSumExp | Reduction::SumSoftMaxWeight => dim2,
            _ => dim,
        }
    }

    /// Sum-type reductions (the ones the block and Kahan sum schemes apply to).
    pub fn is_sum_type(&self) -> bool {
        matches!(
            self,
            Reduction::Sum | Reduction::LogSumExp | Reduction::SumSoftMaxWeight
        )
    }
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reduction::Sum => write!(f, "Sum"),
            Reduction::Min => write!(f, "Min"),
            Reduction::Max => write!(f, "Max"),
            Reduction::ArgMin => write!(f, "ArgMin"),
            Reduction::ArgMax => write!(f, "ArgMax"),
            Reduction::MinArgMin => write!(f, "Min_ArgMin"),
            Reduction::MaxArgMax => write!(f, "Max_ArgMax"),
            Reduction::KMin(k) => write!(f, "KMin({k})"),
            Reduction::ArgKMin(k) => write!(f, "ArgKMin({k})"),
            Reduction::KMinArgKMin(k) => write!(f, "KMin_ArgKMin({k})"),
            Reduction::LogSumExp => write!(f, "LogSumExp"),
            Reduction::SumSoftMaxWeight => write!(f, "SumSoftMaxWeight"),
        }
    }
}
