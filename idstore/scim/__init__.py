"""The SCIM 2.0 front end (provisioning from identity providers) over the same store.

`endpoints.ScimService.handle(wire.Request) -> wire.Response` is its entry point, served by
`app.py` under `/{IdentityStoreId}/scim/v2/`. The modules, each with one job:

    endpoints   routing, bearer auth, parameters, the one error table
    tokens      making bearer tokens and checking the one a request carries
    schema      the attributes served and where each lives in the domain (one table each)
    discovery   /ServiceProviderConfig, /Schemas, /ResourceTypes, generated from `schema`
    resources   users and groups between the domain and SCIM JSON, leniently
    patch       PATCH operations applied to a resource's SCIM view
    filter      filters and paths, parsed by scim2-models, reduced to the supported subset
    queries     which resources a filter selects, by indexed lookups; paging
    projection  `attributes` / `excludedAttributes`
    problems    the SCIM kinds of bad request, as domain errors
    rules       the profile rules SCIM writes must pass (Protocols; app.py injects the AWS
                side's implementation, since the two front ends never import each other)
"""
