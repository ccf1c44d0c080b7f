//! `ManagementClient`: flows, intents, entity types, projects and members, blocking and asyncio.

use flowai_core::management as core;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::bridge::{Model, Models, awaitable, block_on, json_of, to_pyerr};
use crate::messaging::{config, json_list};

/// A client of the Management API. Every network call has a blocking form and an `_async`
/// form returning an awaitable; configuration comes from keyword arguments or `FLOWAI_*`.
#[pyclass(module = "flowai._flowai", frozen)]
#[derive(Debug)]
pub struct ManagementClient {
    inner: core::ManagementClient,
}

#[pymethods]
impl ManagementClient {
    #[new]
    #[pyo3(signature = (*, api_url=None, management_key=None, timeout=None))]
    fn new(
        py: Python<'_>,
        api_url: Option<String>,
        management_key: Option<String>,
        timeout: Option<f64>,
    ) -> PyResult<Self> {
        let inner = config(api_url, None, management_key, None, timeout)
            .and_then(core::ManagementClient::new)
            .map_err(|e| to_pyerr(py, &e))?;
        Ok(ManagementClient { inner })
    }

    fn __repr__(&self) -> &'static str {
        "ManagementClient(...)"
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        false
    }

    fn list_flows(&self, py: Python<'_>) -> PyResult<Models> {
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Models("Flow", json_list(&c.list_flows().await?)?))
        })
    }

    fn list_flows_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Models("Flow", json_list(&c.list_flows().await?)?))
        })
    }

    fn get_flow(&self, py: Python<'_>, flow_id: String) -> PyResult<Model> {
        let id = flow_id;
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Model("Flow", json_of(&c.flow_info(&id).await?)?))
        })
    }

    fn get_flow_async<'py>(&self, py: Python<'py>, flow_id: String) -> PyResult<Bound<'py, PyAny>> {
        let id = flow_id;
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Model("Flow", json_of(&c.flow_info(&id).await?)?))
        })
    }

    fn list_intents(&self, py: Python<'_>) -> PyResult<Models> {
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Models("Intent", json_list(&c.list_intents().await?)?))
        })
    }

    fn list_intents_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Models("Intent", json_list(&c.list_intents().await?)?))
        })
    }

    fn get_intent(&self, py: Python<'_>, intent_id: String) -> PyResult<Model> {
        let id = intent_id;
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Model("Intent", json_of(&c.intent_info(&id).await?)?))
        })
    }

    fn get_intent_async<'py>(
        &self,
        py: Python<'py>,
        intent_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = intent_id;
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Model("Intent", json_of(&c.intent_info(&id).await?)?))
        })
    }

    fn list_entity_types(&self, py: Python<'_>) -> PyResult<Models> {
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Models(
                "Resource",
                json_list(&c.list_entity_types().await?)?,
            ))
        })
    }

    fn list_entity_types_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Models(
                "Resource",
                json_list(&c.list_entity_types().await?)?,
            ))
        })
    }

    fn get_entity_type(&self, py: Python<'_>, entity_type_id: String) -> PyResult<Model> {
        let id = entity_type_id;
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Model("Resource", json_of(&c.entity_type_info(&id).await?)?))
        })
    }

    fn get_entity_type_async<'py>(
        &self,
        py: Python<'py>,
        entity_type_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = entity_type_id;
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Model("Resource", json_of(&c.entity_type_info(&id).await?)?))
        })
    }

    fn list_projects(&self, py: Python<'_>) -> PyResult<Models> {
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Models("Resource", json_list(&c.list_projects().await?)?))
        })
    }

    fn list_projects_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Models("Resource", json_list(&c.list_projects().await?)?))
        })
    }

    fn get_project(&self, py: Python<'_>, project_id: String) -> PyResult<Model> {
        let id = project_id;
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Model("Resource", json_of(&c.project_info(&id).await?)?))
        })
    }

    fn get_project_async<'py>(
        &self,
        py: Python<'py>,
        project_id: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = project_id;
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Model("Resource", json_of(&c.project_info(&id).await?)?))
        })
    }

    fn list_members(&self, py: Python<'_>) -> PyResult<Models> {
        let c = self.inner.clone();
        block_on(py, async move {
            Ok(Models("Resource", json_list(&c.list_members().await?)?))
        })
    }

    fn list_members_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.inner.clone();
        awaitable(py, async move {
            Ok(Models("Resource", json_list(&c.list_members().await?)?))
        })
    }
}
