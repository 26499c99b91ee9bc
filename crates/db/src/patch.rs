//! PATCH as a JSON merge patch (RFC 7396) onto a record's stored fields: a member sets the
//! field, `null` clears it, an absent member leaves it. The merged record is then
//! deserialized and validated as a whole, so a PATCH can never store what a POST could not.

use crate::validate::{Validate, ValidationErrors};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

/// Fields the server owns; a client that sends one gets a 422 naming it.
pub const READ_ONLY: [&str; 6] = [
    "id",
    "user_id",
    "version",
    "created_at",
    "updated_at",
    "job_id",
];

/// Refuses members the client may not set.
pub fn reject_read_only(body: &Map<String, Value>) -> Result<(), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    for key in READ_ONLY {
        if body.contains_key(key) {
            errs.add(key, "is set by the server and cannot be written");
        }
    }
    errs.into_result()
}

/// Turns a JSON value into a record, with serde's message (missing field, wrong type,
/// unknown field) as a validation error, then checks the record's rules.
pub fn parse<F: DeserializeOwned + Validate>(value: Value) -> Result<F, ValidationErrors> {
    let fields: F = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        // Missing and unknown fields are reported at the top level ("."), with the
        // field's name only in the message.
        let field = match path.as_str() {
            "" | "." => field_of(&msg).unwrap_or("body").to_owned(),
            _ => path,
        };
        ValidationErrors::single(field, msg)
    })?;
    fields.validate()?;
    Ok(fields)
}

/// Applies `patch` to `current` and returns the validated result.
pub fn merge<F>(current: &F, patch: &Map<String, Value>) -> Result<F, ValidationErrors>
where
    F: Serialize + DeserializeOwned + Validate,
{
    reject_read_only(patch)?;
    let mut value = serde_json::to_value(current).expect("fields serialize to JSON");
    let object = value
        .as_object_mut()
        .expect("fields serialize to an object");
    for (key, v) in patch {
        if v.is_null() {
            object.remove(key);
        } else {
            object.insert(key.clone(), v.clone());
        }
    }
    parse(value)
}

/// The field a serde message is about: "missing field `title`", "unknown field `x`, …".
fn field_of(msg: &str) -> Option<&str> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(&msg[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::SkillFields;
    use serde_json::json;

    fn skill() -> SkillFields {
        SkillFields {
            name: "Rust".into(),
            category: Some("lang".into()),
            proficiency: Some(4),
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn sets_clears_and_keeps() {
        let merged = merge(&skill(), &obj(json!({"proficiency": 5, "category": null}))).unwrap();
        assert_eq!(merged.name, "Rust");
        assert_eq!(merged.proficiency, Some(5));
        assert_eq!(merged.category, None);
    }

    #[test]
    fn clearing_a_required_field_names_it() {
        let err = merge(&skill(), &obj(json!({"name": null}))).unwrap_err();
        assert_eq!(err.0[0].field, "name");
    }

    #[test]
    fn read_only_and_unknown_fields_are_refused() {
        let err = merge(&skill(), &obj(json!({"id": "x", "version": 3}))).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["id", "version"]);
        let err = merge(&skill(), &obj(json!({"colour": "red"}))).unwrap_err();
        assert_eq!(err.0[0].field, "colour");
    }

    #[test]
    fn type_errors_name_the_field_not_the_value() {
        let err = merge(&skill(), &obj(json!({"proficiency": "high"}))).unwrap_err();
        assert_eq!(err.0[0].field, "proficiency");
        let err = parse::<crate::models::JobFields>(
            json!({"title": "a", "company": "b", "status": "hired"}),
        )
        .unwrap_err();
        assert_eq!(err.0[0].field, "status");
    }

    #[test]
    fn merged_record_is_validated() {
        let err = merge(&skill(), &obj(json!({"proficiency": 9}))).unwrap_err();
        assert_eq!(err.0[0].field, "proficiency");
    }
}
