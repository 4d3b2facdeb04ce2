// Usage of a stage, summed from the assistant messages its session produced. A request that was aborted before
// the provider answered anything (Pi sends one more on a signal already aborted) spent nothing and is no turn.

import type { AgentMessage } from "@mariozechner/pi-agent-core";
import type { Usage } from "../authoring/types.js";
import { zeroUsage } from "../authoring/usage.js";

export function usageOfMessages(messages: readonly AgentMessage[]): Usage {
	const usage = zeroUsage();
	for (const message of messages) {
		if (message.role !== "assistant") continue;
		if (message.stopReason === "aborted" && message.usage.totalTokens === 0 && message.content.length === 0) continue;
		usage.input += message.usage.input;
		usage.output += message.usage.output;
		usage.cacheRead += message.usage.cacheRead;
		usage.cacheWrite += message.usage.cacheWrite;
		usage.totalTokens += message.usage.totalTokens;
		usage.cost += message.usage.cost.total;
		usage.turns += 1;
		usage.toolCalls += message.content.filter((block) => block.type === "toolCall").length;
	}
	return usage;
}
