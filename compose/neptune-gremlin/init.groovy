// binds the traversal source `g` (written by labrunner)
def globals = [:]
globals << [g : traversal().withEmbedded(graph)]
