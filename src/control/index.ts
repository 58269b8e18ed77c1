// Public surface of control: the socket server the daemon runs and the client the CLI uses.
export { startControlServer, ControlError, type Route, type RouteContext, type RouteResult, type Peer } from './server.js';
export { callControl, controlSocketPath, NoDaemonError, ControlResponseError } from './client.js';
