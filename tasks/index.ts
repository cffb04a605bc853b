// Hardhat tasks, grouped by role. Each module registers its tasks on import.
export {};
