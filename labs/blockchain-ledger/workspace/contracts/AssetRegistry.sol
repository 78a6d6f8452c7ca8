// SPDX-License-Identifier: MIT
// A shared register of assets (a shipping container, a painting, a pallet of coffee):
// anyone may register a new asset id and becomes its owner; only the owner may hand it on.
// Every registration and hand-over is an event in the chain's logs: the asset's history.
//
// Compiled when the lab was written by scripts/compile-contracts.sh (npm solc, pinned)
// into AssetRegistry.json beside this file: the ABI and the bytecode you deploy.
pragma solidity ^0.8.24;

contract AssetRegistry {
    struct Asset {
        address owner;
        string description;
    }

    mapping(uint256 => Asset) private assets;
    uint256 public assetCount;

    event Registered(uint256 indexed assetId, address indexed owner, string description);
    event Transferred(uint256 indexed assetId, address indexed from, address indexed to);

    function register(uint256 assetId, string calldata description) external {
        require(assets[assetId].owner == address(0), "asset already registered");
        assets[assetId] = Asset(msg.sender, description);
        assetCount += 1;
        emit Registered(assetId, msg.sender, description);
    }

    function transfer(uint256 assetId, address to) external {
        require(assets[assetId].owner != address(0), "no such asset");
        require(assets[assetId].owner == msg.sender, "not the owner");
        require(to != address(0), "no recipient");
        assets[assetId].owner = to;
        emit Transferred(assetId, msg.sender, to);
    }

    function ownerOf(uint256 assetId) external view returns (address) {
        return assets[assetId].owner;
    }

    function descriptionOf(uint256 assetId) external view returns (string memory) {
        return assets[assetId].description;
    }
}
