import type { RestoreAdapter } from '@cedana/core';

/** CRIU must restore with the TCP options it dumped with. */
export const detectNetworkOptionsForRestore: RestoreAdapter = (next) =>
  async function detectNetworkOptionsForRestore(ctx, req, res) {
    if (ctx.manifest.tcpEstablished === true) ctx.criu.tcpEstablished = true;
    return next(ctx, req, res);
  };
