// Test-only Pi extension: registers the "scripted" provider in the real `pi` CLI. The script comes
// from the module named by PI_WORKFLOWS_TEST_SCRIPT (exporting `script`); every request is appended
// to the JSONL file named by PI_WORKFLOWS_TEST_CALLS so tests can count calls across processes.

import { appendFileSync } from "node:fs";
import type { ExtensionAPI } from "@mariozechner/pi-coding-agent";
import { createScriptedProvider, type Script } from "../../extensions/workflows/testing/scripted-provider.js";

export default async function scriptedProviderExtension(pi: ExtensionAPI): Promise<void> {
	const scriptPath = process.env.PI_WORKFLOWS_TEST_SCRIPT;
	if (!scriptPath) throw new Error("PI_WORKFLOWS_TEST_SCRIPT is not set");
	const { script } = (await import(scriptPath)) as { script: Script };
	const callsFile = process.env.PI_WORKFLOWS_TEST_CALLS;
	const provider = createScriptedProvider({
		models: ["fast", "smart"],
		script: (request) => {
			if (callsFile) appendFileSync(callsFile, `${JSON.stringify(request)}\n`);
			return script(request);
		},
	});
	pi.registerProvider("scripted", provider.config);
}
