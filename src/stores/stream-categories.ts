import type { StreamCategory } from '../kernel/stream-id.js';

/**
 * Release 0.1.0 named a stream by its entity id alone (`u1`); stream ids now
 * carry the aggregate's category (`user-u1`). The stores' migration renames
 * every old stream into the category of the module that adopts them; with
 * none, a store that holds old streams is refused rather than misread.
 */
export const oldStreamsNotAdopted = (file: string) =>
  `${file} holds streams written before stream ids carried a category (release 0.1.0), and no module adopts them`;

/**
 * Old ids may contain "-" (and may even look like a new id), so they are
 * renamed in two steps through a ":" that no old id contains: the unique
 * (stream, version) index never sees two rows with the same new name.
 */
export const OLD_ID_MARK = ':';

