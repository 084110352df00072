export { HOST_MODULES_DIR, HOST_PROVIDED, provideHostModules } from './host-modules.js';
export { checkPluginPackage, loadPlugin, loadPlugins, type PackageJson } from './loader.js';
export { PluginRegistry } from './registry.js';
