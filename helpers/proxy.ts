import type { DeployOptions } from "hardhat-deploy/types";

/**
 * hardhat-deploy options for a UUPS core behind an `ERC1967Proxy`: the proxy is deployed and initialized in
 * one transaction, and a changed implementation is upgraded through OpenZeppelin 5's `upgradeToAndCall`.
 */
export function uupsProxy(initArgs: unknown[]): DeployOptions["proxy"] {
  return {
    proxyContract: "UUPS",
    execute: { init: { methodName: "initialize", args: initArgs } },
    upgradeFunction: { methodName: "upgradeToAndCall", upgradeArgs: ["{implementation}", "0x"] },
  };
}
