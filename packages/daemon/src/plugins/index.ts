export { loadPlugin, loadPlugins } from './loader.js';
export { PluginRegistry } from './registry.js';
