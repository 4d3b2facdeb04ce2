// A model registry for offline runs on either Pi line: in-memory credentials, no models.json, nothing read
// from or written to the agent dir; the given providers (for example a scripted one) registered on it.

import type { ModelRegistry, ProviderConfig } from "@mariozechner/pi-coding-agent";
import { modelHost } from "../stages/model-host.js";

export async function createInMemoryModelRegistry(
	providers: Record<string, ProviderConfig> = {},
): Promise<ModelRegistry> {
	const registry = await modelHost().createInMemoryRegistry();
	for (const [name, config] of Object.entries(providers)) registry.registerProvider(name, config);
	return registry;
}
