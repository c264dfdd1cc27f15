//! Signing keys and exported checkpoints, in core's formats.

use actioncenter::Checkpoint;
use actioncenter::checkpoint::{generate_key as new_key, signing_key_to_pem, verifying_key_to_pem};
use pyo3::prelude::*;

use crate::errors::OrRaise;
use crate::records::Builder;

/// A fresh Ed25519 key pair: `(private PKCS#8 PEM, public SPKI PEM)`.
#[pyfunction]
pub(crate) fn generate_key(py: Python<'_>) -> PyResult<(String, String)> {
    let key = new_key().or_raise(py)?;
    let private = signing_key_to_pem(&key).or_raise(py)?;
    let public = verifying_key_to_pem(&key.verifying_key()).or_raise(py)?;
    Ok((private, public))
}

/// An exported checkpoint's JSON as an `actioncenter.Checkpoint`, checked
/// by core.
#[pyfunction]
pub(crate) fn parse_checkpoint<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let cp = Checkpoint::from_json(text).or_raise(py)?;
    Builder::new(py)?.checkpoint(&cp)
}

/// A checkpoint's JSON (any layout core reads) in core's export form.
#[pyfunction]
pub(crate) fn checkpoint_json(py: Python<'_>, text: &str) -> PyResult<String> {
    Ok(Checkpoint::from_json(text).or_raise(py)?.to_json())
}
