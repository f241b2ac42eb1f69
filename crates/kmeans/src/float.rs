use ndarray::{ArrayView2, LinalgScalar};
use num_traits::{Float, FromPrimitive, ToPrimitive};

use crate::error::{KMeansError, Result};

/// The element types k-means runs on: `f32` and `f64`.
pub trait KFloat:
    LinalgScalar
    + Float
    + FromPrimitive
    + ToPrimitive
    + Send
    + Sync
    + std::fmt::Debug
    + Default
    + 'static
{
}

impl KFloat for f32 {}
impl KFloat for f64 {}

pub(crate) fn f<F: KFloat>(v: f64) -> F {
    F::from_f64(v).unwrap_or_else(F::zero)
}

pub(crate) fn to64<F: KFloat>(v: F) -> f64 {
    v.to_f64().unwrap_or(f64::NAN)
}

/// Rejects empty data and NaN / infinite values (naming the first bad row).
pub(crate) fn check_data<F: KFloat>(x: &ArrayView2<'_, F>) -> Result<()> {
    if x.nrows() == 0 {
        return Err(KMeansError::EmptyInput);
    }
    if x.ncols() == 0 {
        return Err(KMeansError::NoColumns);
    }
    if let Some(row) = x
        .rows()
        .into_iter()
        .position(|r| r.iter().any(|v| !v.is_finite()))
    {
        return Err(KMeansError::NonFinite { row });
    }
    // Distances come from ‖x‖² − 2·x·c + ‖c‖², and two points can be (‖a‖ + ‖b‖)² apart:
    // every row's squared norm times four must fit the type.
    let limit = to64(F::max_value()) / 4.0;
    if let Some(row) = x
        .rows()
        .into_iter()
        .position(|r| r.iter().map(|&v| to64(v).powi(2)).sum::<f64>() > limit)
    {
        return Err(KMeansError::TooLarge { row });
    }
    Ok(())
}
