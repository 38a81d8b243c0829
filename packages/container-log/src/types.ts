/** Which output stream of the container a line came from. */
export type Stream = 'stdout' | 'stderr';
