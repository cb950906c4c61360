// A task module that cannot load: the thread pool must not restart its threads forever.
throw new Error('this task module does not load');
