//! Key ranges from Python arguments: `cursor(start, stop, prefix=...)` and
//! slices (`kv[a:b]`, `kv[b:a]`, `kv[::-1]`).

use super::convert::key::KeyCodec;
use super::errors::invalid;
use crate::engine::bounds::{prefix_range, tighter};
use crate::engine::RangeSpec;
use pyo3::prelude::*;
use pyo3::types::PySlice;
use std::ops::Bound as B;

fn bound(codec: KeyCodec, key: Option<&Bound<'_, PyAny>>, inclusive: bool) -> PyResult<B<Vec<u8>>> {
    Ok(match key {
        Some(k) if !k.is_none() => {
            let enc = codec.encode_vec(k)?;
            if inclusive {
                B::Included(enc)
            } else {
                B::Excluded(enc)
            }
        }
        _ => B::Unbounded,
    })
}

/// Arguments of `cursor()`: `start`/`stop` bound the range in key order
/// (whatever the direction); `prefix` narrows it further.
#[allow(clippy::too_many_arguments)]
pub fn from_args(
    codec: KeyCodec,
    start: Option<&Bound<'_, PyAny>>,
    stop: Option<&Bound<'_, PyAny>>,
    prefix: Option<&Bound<'_, PyAny>>,
    reverse: bool,
    include_start: bool,
    include_stop: bool,
    keys_only: bool,
) -> PyResult<RangeSpec> {
    let mut lo = bound(codec, start, include_start)?;
    let mut hi = bound(codec, stop, include_stop)?;
    if let Some(p) = prefix.filter(|p| !p.is_none()) {
        let (plo, phi) = prefix_range(&codec.encode_prefix(p)?);
        lo = tighter(lo, plo, false);
        hi = tighter(hi, phi, true);
    }
    Ok(RangeSpec {
        lo,
        hi,
        reverse,
        keys_only,
    })
}

/// A slice: ascending `[start, stop)`; descending from `start` (inclusive)
/// down to `stop` (exclusive) when `start > stop` or the step is -1.
pub fn from_slice(codec: KeyCodec, slice: &Bound<'_, PySlice>) -> PyResult<RangeSpec> {
    let get = |name: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
        let v = slice.getattr(name)?;
        Ok(if v.is_none() { None } else { Some(v) })
    };
    let (start, stop, step) = (get("start")?, get("stop")?, get("step")?);
    let step: i64 = match &step {
        None => 1,
        Some(s) => s
            .extract()
            .map_err(|_| invalid("slice step must be 1 or -1"))?,
    };
    let start = start.map(|s| codec.encode_vec(&s)).transpose()?;
    let stop = stop.map(|s| codec.encode_vec(&s)).transpose()?;
    let reverse = match step {
        1 => matches!((&start, &stop), (Some(a), Some(b)) if a > b),
        -1 => true,
        _ => return Err(invalid("slice step must be 1 or -1")),
    };
    let (lo, hi) = if reverse {
        (
            stop.map_or(B::Unbounded, B::Excluded),
            start.map_or(B::Unbounded, B::Included),
        )
    } else {
        (
            start.map_or(B::Unbounded, B::Included),
            stop.map_or(B::Unbounded, B::Excluded),
        )
    };
    Ok(RangeSpec {
        lo,
        hi,
        reverse,
        keys_only: false,
    })
}
