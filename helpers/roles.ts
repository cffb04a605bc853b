import { id, ZeroHash } from "ethers";

/** Role ids, identical to contracts/libraries/Roles.sol. */
export const Roles = {
  DEFAULT_ADMIN: ZeroHash,
  UPGRADER: id("UPGRADER_ROLE"),
  PAUSER: id("PAUSER_ROLE"),
  RESERVE_MANAGER: id("RESERVE_MANAGER_ROLE"),
  TOKENIZER: id("TOKENIZER_ROLE"),
  ATTESTOR: id("ATTESTOR_ROLE"),
  APPRAISER: id("APPRAISER_ROLE"),
  INSURER: id("INSURER_ROLE"),
  UNDERWRITER: id("UNDERWRITER_ROLE"),
  CREDIT_ADMIN: id("CREDIT_ADMIN_ROLE"),
  BORROWER: id("BORROWER_ROLE"),
  RECEIPT_HOLDER: id("RECEIPT_HOLDER_ROLE"),
  BLACKLIST: id("BLACKLIST_ROLE"),
  REPORTER: id("REPORTER_ROLE"),
  ORACLE_ADMIN: id("ORACLE_ADMIN_ROLE"),
  ORACLE: id("ORACLE_ROLE"),
  LOAN_VAULT: id("LOAN_VAULT_ROLE"),
  KEEPER: id("KEEPER_ROLE"),
} as const;

export type RoleName = keyof typeof Roles;
