class Counter:
    def reset(self, value):
        self.total = value
        label = None
