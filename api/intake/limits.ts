/** Size limits of the requester API, derived from the protocol's largest padding bucket. */
import { allowedMessageSizes } from '../../crypto/v1/message.ts';

/** The largest thread message the protocol can produce (two recipients, largest bucket). */
export const MAX_ENVELOPE_BYTES = Math.max(...allowedMessageSizes(2));
