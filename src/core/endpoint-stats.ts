/** What an EndpointCore counts (stats()). */
export interface EndpointStats {
  /** Connections held (half-open ones and those still draining included). */
  connections: number;
  /** Server: connections announced to the application. */
  accepted: number;
  /** Server: connections created and not confirmed yet. */
  halfOpen: number;
  retriesSent: number;
  statelessResetsSent: number;
  /** Initials refused at once because the server was closing or full. */
  refusalsSent: number;
  /** Fresh CIDs drawn again because a live connection had the same one. */
  cidCollisions: number;
  /** Connections ended by a fault in their own code (ERR_MPUDP_INTERNAL); the others went on. */
  internalErrors: number;
  /** Drops and refusals by reason. */
  drops: Record<string, number>;
}
