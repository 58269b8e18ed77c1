// Public surface of config: the validated Config type and its loader.
export type * from './types.js';
export { loadConfig, parseConfig, resolveConfigPath, defaultConfig, isWithin, ConfigError, DEFAULT_CONFIG_PATH } from './load.js';
export { BUILTIN_ZONES, DEFAULTS } from './defaults.js';
