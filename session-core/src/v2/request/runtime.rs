//! The user parameters of a token request: runtime filters, sorts and parameters.

use super::*;
use serde::Serialize;

/// Runtime filters, sorts and parameters of a full or object token (`user_parameters`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UserParameterOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<ObjectRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime_filters: Option<Vec<RuntimeFilter>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime_sorts: Option<Vec<RuntimeSort>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<Vec<RuntimeParameter>>,
}

impl UserParameterOptions {
    /// No options yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The objects the options apply to.
    #[must_use]
    pub fn with_objects(mut self, objects: impl IntoIterator<Item = ObjectRef>) -> Self {
        self.objects = Some(objects.into_iter().collect());
        self
    }

    /// Runtime filters.
    #[must_use]
    pub fn with_runtime_filters(mut self, filters: impl IntoIterator<Item = RuntimeFilter>) -> Self {
        self.runtime_filters = Some(filters.into_iter().collect());
        self
    }

    /// Runtime sorts.
    #[must_use]
    pub fn with_runtime_sorts(mut self, sorts: impl IntoIterator<Item = RuntimeSort>) -> Self {
        self.runtime_sorts = Some(sorts.into_iter().collect());
        self
    }

    /// Runtime parameters.
    #[must_use]
    pub fn with_parameters(mut self, parameters: impl IntoIterator<Item = RuntimeParameter>) -> Self {
        self.parameters = Some(parameters.into_iter().collect());
        self
    }
}

/// A runtime filter of `user_parameters`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuntimeFilter {
    column_name: String,
    values: Vec<String>,
    operator: FilterOperator,
    #[serde(skip_serializing_if = "Option::is_none")]
    persist: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<ObjectRef>>,
}

impl RuntimeFilter {
    /// `column_name operator values`.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(
        column_name: impl Into<String>,
        operator: FilterOperator,
        values: I,
    ) -> Self {
        Self {
            column_name: column_name.into(),
            values: values.into_iter().map(Into::into).collect(),
            operator,
            persist: None,
            objects: None,
        }
    }
}

/// Sort order of a runtime sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SortOrder {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// A runtime sort of `user_parameters`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuntimeSort {
    #[serde(skip_serializing_if = "Option::is_none")]
    column_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order: Option<SortOrder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    persist: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<ObjectRef>>,
}

impl RuntimeSort {
    /// Sorts by `column_name` in `order`.
    pub fn new(column_name: impl Into<String>, order: SortOrder) -> Self {
        Self {
            column_name: Some(column_name.into()),
            order: Some(order),
            persist: None,
            objects: None,
        }
    }
}

/// A runtime parameter of `user_parameters`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuntimeParameter {
    name: String,
    values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    persist: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects: Option<Vec<ObjectRef>>,
}

impl RuntimeParameter {
    /// Parameter `name` set to `values`.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(name: impl Into<String>, values: I) -> Self {
        Self {
            name: name.into(),
            values: values.into_iter().map(Into::into).collect(),
            persist: None,
            objects: None,
        }
    }
}

/// `persist` and `objects`, which runtime filters, sorts and parameters share.
macro_rules! persist_and_objects {
    ($($name:ident),*) => {$(
        impl $name {
            /// Keeps it on the user's session beyond this token (`persist`, 9.12.0.cl or
            /// later).
            #[must_use]
            pub fn with_persist(mut self, persist: bool) -> Self {
                self.persist = Some(persist);
                self
            }

            /// The objects it applies to (`objects`); by default every object the token
            /// opens.
            #[must_use]
            pub fn with_objects(mut self, objects: impl IntoIterator<Item = ObjectRef>) -> Self {
                self.objects = Some(objects.into_iter().collect());
                self
            }
        }
    )*};
}

persist_and_objects!(RuntimeFilter, RuntimeSort, RuntimeParameter);
