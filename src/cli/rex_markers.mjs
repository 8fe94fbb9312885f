// The Rex contract's async markers (contract.md; `coldstart::contract::Protocol` in Rust), for
// the Node oracles that run bundles the way coldstart does (node_runner.mjs,
// scripts/node-cluster-server.mjs, fixtures/expected.mjs): an entry that returns a RESOLVERS
// marker is answered by calling its resolver once the event loop is idle; one that returns a
// PENDING marker by polling the first global until it says "done", then calling the second.
// A unit test in src/contract.rs checks this table against the typed contract.
export const RESOLVERS = {
  __REX_ASYNC__: "__rex_resolve_gssp",
  __REX_GSP_ASYNC__: "__rex_resolve_gsp",
  __REX_GSP_PATHS_ASYNC__: "__rex_resolve_static_paths",
  __REX_API_ASYNC__: "__rex_resolve_api",
  __REX_APP_ROUTE_ASYNC__: "__rex_resolve_app_route",
  __REX_MW_ASYNC__: "__rex_resolve_middleware",
  __REX_MCP_ASYNC__: "__rex_resolve_mcp",
};
export const PENDING = {
  __REX_RSC_ASYNC__: ["__rex_resolve_rsc_pending", "__rex_finalize_rsc_flight"],
  __REX_RSC_HTML_ASYNC__: ["__rex_resolve_rsc_pending", "__rex_finalize_rsc_to_html"],
  __REX_ACTION_ASYNC__: ["__rex_resolve_action_pending", "__rex_finalize_action"],
};
