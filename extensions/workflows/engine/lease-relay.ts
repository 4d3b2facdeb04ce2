// A run's lease is taken before its driver exists (the store grants it when the run is opened): this relay
// receives what the lease reports (another process took the run over, a heartbeat failed) and passes it to
// the driver's recorder once bound, keeping what arrived before.

import type { LeaseEvents } from "../store/run-store.js";

interface Receiver {
	lostOwnership(reason: string): void;
	warn(message: string): void;
}

export class LeaseRelay implements LeaseEvents {
	private receiver: Receiver | undefined;
	private readonly early: Array<(receiver: Receiver) => void> = [];

	onLost(reason: string): void {
		this.send((receiver) => receiver.lostOwnership(reason));
	}

	onWarning(message: string): void {
		this.send((receiver) => receiver.warn(message));
	}

	bind(receiver: Receiver): void {
		this.receiver = receiver;
		for (const deliver of this.early.splice(0)) deliver(receiver);
	}

	private send(deliver: (receiver: Receiver) => void): void {
		if (this.receiver) deliver(this.receiver);
		else this.early.push(deliver);
	}
}
