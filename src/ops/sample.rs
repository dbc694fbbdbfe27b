//! The bundled sample plan (白河市 実施計画 R2–R4, 基本目標7), compiled into the binary so that
//! a new installation shows a real plan at once, wherever the binary runs.

use keikaku_core::import::Context;
use keikaku_core::{Municipality, MunicipalityCode};

use super::OpsError;
use super::import::{ImportError, ImportRequest, import};
use crate::storage::Store;

/// The sample document's file name.
pub const NAME: &str = "shirakawa-r2-r4-goal7.txt";
/// The sample document (a copy of `data/samples/shirakawa-r2-r4-goal7.txt`).
pub const BYTES: &[u8] = include_bytes!("../../data/samples/shirakawa-r2-r4-goal7.txt");
/// Its municipality's code.
pub const CODE: &str = "072052";
/// Its municipality's name.
pub const MUNICIPALITY: &str = "白河市";

/// Loads the sample when the database holds no edition at all. Returns whether it did.
pub async fn load_if_empty(store: &Store) -> Result<bool, OpsError> {
    if !store.editions().await?.is_empty() {
        return Ok(false);
    }
    let code = MunicipalityCode::parse(CODE).map_err(|e| OpsError::BadRequest(e.to_string()))?;
    let request = ImportRequest {
        name: NAME,
        bytes: BYTES,
        layout: None,
        context: Context {
            municipality: Some(Municipality {
                code,
                name: MUNICIPALITY.to_owned(),
            }),
            ..Context::default()
        },
        replace: false,
        actor: "sample",
    };
    match import(store, request).await {
        Ok(_) => Ok(true),
        Err(ImportError::Ops(err)) => Err(err),
        Err(err) => Err(OpsError::BadRequest(format!(
            "the bundled sample does not import: {err}"
        ))),
    }
}
