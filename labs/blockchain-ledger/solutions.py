"""Reference solutions for blockchain-ledger (what `labrunner solve` applies): ledger.py as it
stands after each step."""


def write_balances(workspace):
    workspace.install_solution("ledger.py", source="ledger-1-balances.py")


def write_send_payment(workspace):
    workspace.install_solution("ledger.py", source="ledger-2-payment.py")


def write_verify_links(workspace):
    workspace.install_solution("ledger.py", source="ledger-3-links.py")


def write_verify_hashes(workspace):
    workspace.install_solution("ledger.py", source="ledger-4-hashes.py")


def write_deploy_registry(workspace):
    workspace.install_solution("ledger.py", source="ledger-5-deploy.py")


def write_register_and_history(workspace):
    workspace.install_solution("ledger.py", source="ledger-6-events.py")


def write_transfer_asset(workspace):
    workspace.install_solution("ledger.py", source="ledger-7-revert.py")
