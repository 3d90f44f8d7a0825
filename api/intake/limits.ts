/** Size limits of the requester API, derived from the protocol's largest padding bucket. */
import { allowedMessageSizes } from '../../crypto/v1/message.ts';
import { allowedMessageSizesV2 } from '../../crypto/v2/message.ts';

/**
 * The largest thread message either protocol version can produce (two recipients, largest
 * bucket). v2's header is 4 bytes longer (the position), so a v1-only limit would refuse every
 * v2 message in the 64 KiB bucket.
 */
export const MAX_ENVELOPE_BYTES = Math.max(...allowedMessageSizes(2), ...allowedMessageSizesV2(2));
